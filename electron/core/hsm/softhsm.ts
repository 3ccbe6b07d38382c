import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OperationError } from '../errors.ts';

/** Where Debian's softhsm2 package puts the module. */
export const SOFTHSM_MODULE_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
  '/opt/homebrew/lib/softhsm/libsofthsm2.so',
];

export const SOFTHSM_INSTALL_HINT =
  'SoftHSM 2 is not installed; on Debian or Ubuntu run: sudo apt-get install softhsm2 (macOS: brew install softhsm)';

export function findSoftHsmModule(): string | undefined {
  return SOFTHSM_MODULE_CANDIDATES.find((p) => existsSync(p));
}

/**
 * A private SoftHSM 2 configuration: its own token directory, so rehearsals and tests never touch
 * the machine's real tokens. SoftHSM reads SOFTHSM2_CONF when the module is initialised, so
 * `env` must be in force (process.env or a child's environment) before the module is loaded.
 */
export interface SoftHsmSandbox {
  dir: string;
  confPath: string;
  module: string;
  env: NodeJS.ProcessEnv;
  /** Creates a token in the first free slot and returns its serial number. */
  initToken(label: string, pin: string, soPin?: string): string;
  /** Removes the sandbox's folder and every token in it. */
  dispose(): void;
}

export function createSoftHsmSandbox(parentDir?: string): SoftHsmSandbox {
  const module = findSoftHsmModule();
  if (!module) throw new OperationError(SOFTHSM_INSTALL_HINT);
  const dir = mkdtempSync(path.join(parentDir ?? os.tmpdir(), 'keyrite-softhsm-'));
  const tokenDir = path.join(dir, 'tokens');
  mkdirSync(tokenDir, { mode: 0o700 });
  const confPath = path.join(dir, 'softhsm2.conf');
  writeFileSync(
    confPath,
    `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
    { mode: 0o600 },
  );
  const env = { ...process.env, SOFTHSM2_CONF: confPath };
  return {
    dir,
    confPath,
    module,
    env,
    initToken(label, pin, soPin = pin) {
      let out: string;
      try {
        out = execFileSync(
          'softhsm2-util',
          ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', soPin],
          { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
        );
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { stderr?: string };
        if (e.code === 'ENOENT') throw new OperationError(SOFTHSM_INSTALL_HINT);
        throw new OperationError(`softhsm2-util could not create token '${label}': ${String(e.stderr ?? e.message).trim().split('\n')[0]}`);
      }
      // "The token has been initialized and is reassigned to slot 123456"
      const serials = execFileSync('softhsm2-util', ['--show-slots'], { env, encoding: 'utf8' });
      const blocks = serials.split(/\n(?=Slot )/);
      const mine = blocks.find((b) => new RegExp(`Label:\\s+${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'm').test(b));
      const serial = mine?.match(/Serial number:\s+(\S+)/)?.[1];
      if (!serial) throw new OperationError(`softhsm2-util created token '${label}' but it was not listed (${out.trim()})`);
      return serial;
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
