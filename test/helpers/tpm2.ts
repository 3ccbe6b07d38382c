/**
 * tpm2-pkcs11 over a software TPM, set up from scratch for a test run: swtpm on a local TCP port,
 * a private D-Bus session bus, tpm2-abrmd on it (tpm2_ptool addtoken against swtpm directly runs out
 * of TPM object memory; through the resource manager it works), then a tpm2-pkcs11 store with one
 * token. Every process started here is stopped by stop(), by its pid.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TPM2_MODULE_CANDIDATES = ['/usr/lib/x86_64-linux-gnu/libtpm2_pkcs11.so.1', '/usr/lib/aarch64-linux-gnu/libtpm2_pkcs11.so.1', '/usr/lib64/libtpm2_pkcs11.so.1'];

const UP = `#!/bin/bash
set -e
T=$1; P=$2
swtpm socket --tpmstate dir=$T/state --tpm2 --server type=tcp,port=$P --ctrl type=tcp,port=$((P+1)) --flags not-need-init,startup-clear --daemon --pid file=$T/swtpm.pid
dbus-daemon --session --fork --print-address=3 --print-pid=4 3>$T/dbus.addr 4>$T/dbus.pid
export DBUS_SESSION_BUS_ADDRESS=$(cat $T/dbus.addr)
tpm2-abrmd --session --allow-root --tcti=swtpm:host=127.0.0.1,port=$P --flush-all >$T/abrmd.log 2>&1 &
echo $! > $T/abrmd.pid
for i in $(seq 50); do tpm2_getrandom -T tabrmd:bus_type=session 4 >/dev/null 2>&1 && exit 0; sleep 0.2; done
echo "tpm2-abrmd did not come up: $(cat $T/abrmd.log)" >&2; exit 1
`;

/** Why the tpm2-pkcs11 tests cannot run here, or undefined when they can. */
export function tpm2Missing(): string | undefined {
  if (!TPM2_MODULE_CANDIDATES.some((p) => existsSync(p))) return 'tpm2-pkcs11 is not installed: apt-get install libtpm2-pkcs11-1 libtpm2-pkcs11-tools';
  for (const [bin, pkg] of [['swtpm', 'swtpm swtpm-tools'], ['tpm2-abrmd', 'tpm2-abrmd'], ['dbus-daemon', 'dbus'], ['tpm2_ptool', 'libtpm2-pkcs11-tools'], ['tpm2_getrandom', 'tpm2-tools']]) {
    try {
      execFileSync('which', [bin], { stdio: 'ignore' });
    } catch {
      return `${bin} is not installed: apt-get install ${pkg}`;
    }
  }
  if (process.getuid?.() !== 0) return 'the tpm2-pkcs11 tests run tpm2-abrmd with --allow-root, as root';
  return undefined;
}

export interface TpmToken {
  dir: string;
  module: string;
  label: string;
  pin: string;
  /** Environment for anything that opens the module (tpm2-pkcs11 reads its store and TCTI from it). */
  env: NodeJS.ProcessEnv;
  stop(): void;
}

export function makeTpmToken(label: string, pin: string): TpmToken {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-tpm2-'));
  mkdirSync(path.join(dir, 'state'));
  mkdirSync(path.join(dir, 'store'));
  const up = path.join(dir, 'up.sh');
  writeFileSync(up, UP, { mode: 0o755 });
  const port = 20000 + Math.floor(Math.random() * 20000) * 2;
  const stop = () => {
    for (const f of ['abrmd.pid', 'dbus.pid', 'swtpm.pid']) {
      try {
        process.kill(Number(readFileSync(path.join(dir, f), 'utf8').trim()));
      } catch {
        /* not started, or gone already */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    execFileSync(up, [dir, String(port)], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    const bus = readFileSync(path.join(dir, 'dbus.addr'), 'utf8').trim();
    const store = path.join(dir, 'store');
    const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: bus, TPM2TOOLS_TCTI: 'tabrmd:bus_type=session', TPM2_PKCS11_TCTI: 'tabrmd:bus_type=session', TPM2_PKCS11_STORE: store, TPM2_PKCS11_LOG_LEVEL: '0' };
    execFileSync('tpm2_ptool', ['init', '--path', store], { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    execFileSync('tpm2_ptool', ['addtoken', '--pid=1', '--sopin=11223344', `--userpin=${pin}`, `--label=${label}`, '--path', store], { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
    return { dir, module: TPM2_MODULE_CANDIDATES.find((p) => existsSync(p))!, label, pin, env, stop };
  } catch (err) {
    stop();
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`tpm2-pkcs11 set-up failed: ${(e.stderr?.toString() || e.message).trim().split('\n').slice(-3).join(' ')}`);
  }
}
