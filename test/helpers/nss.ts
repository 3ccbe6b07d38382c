/**
 * NSS softoken (libsoftokn3.so from libnss3) as a second PKCS#11 implementation for tests. Each
 * token is its own database folder made with certutil; the module opens it only through its
 * C_Initialize parameters (--module-args / hsm.initArgs). Its key token is labelled
 * "NSS Certificate DB", or what `dbTokenDescription` says, and has the serial 0000000000000000.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const NSS_INSTALL_HINT = 'NSS softoken is not installed: apt-get install libnss3 libnss3-tools';

/** Where Debian's libnss3 puts the softoken (dpkg -L libnss3 | grep softokn3). */
export function findNssSoftoken(): string | undefined {
  const candidates = ['x86_64-linux-gnu', 'aarch64-linux-gnu'].map((a) => `/usr/lib/${a}/libsoftokn3.so`).concat(['/usr/lib64/libsoftokn3.so', '/usr/lib/libsoftokn3.so']);
  const found = candidates.find((p) => existsSync(p));
  if (found) return found;
  try {
    return execFileSync('dpkg', ['-L', 'libnss3'], { encoding: 'utf8' }).split('\n').find((l) => l.endsWith('/libsoftokn3.so'));
  } catch {
    return undefined;
  }
}

export function haveCertutil(): boolean {
  try {
    execFileSync('certutil', ['-H'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

export interface NssToken {
  module: string;
  dir: string;
  label: string;
  initArgs: string;
  pin: string;
}

/** A new NSS key database with a password (the token PIN) and its own token label. */
export function makeNssToken(label: string, pin: string, parent = os.tmpdir()): NssToken {
  const module = findNssSoftoken();
  if (!module) throw new Error(NSS_INSTALL_HINT);
  const dir = mkdtempSync(path.join(parent, 'keyrite-nss-'));
  const pwfile = path.join(dir, 'pw.txt');
  writeFileSync(pwfile, `${pin}\n`, { mode: 0o600 });
  execFileSync('certutil', ['-N', '-d', `sql:${dir}`, '-f', pwfile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const initArgs = `configdir='sql:${dir}' certPrefix='' keyPrefix='' secmod='secmod.db' flags= dbTokenDescription='${label}'`;
  return { module, dir, label, initArgs, pin };
}
