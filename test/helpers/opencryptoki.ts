/**
 * opencryptoki's soft token (3.8, Debian), set up from scratch for a test run. opencryptoki
 * compiles in its paths, so each command runs in a private mount and IPC namespace
 * (`unshare -m -i`, root only) with temp folders bind-mounted over /etc/opencryptoki,
 * /var/lib/opencryptoki, /run and /var/log, and its own pkcsslotd, stopped when the command ends.
 * The token's objects stay in the temp folder between commands, as on a real machine.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const OCK_MODULE_CANDIDATES = ['/usr/lib/x86_64-linux-gnu/pkcs11/libopencryptoki.so', '/usr/lib/aarch64-linux-gnu/pkcs11/libopencryptoki.so', '/usr/lib64/pkcs11/libopencryptoki.so'];
export const OCK_SO_PIN = '11223344';

const SETUP = `#!/bin/bash
set -e
T=$1; shift
mkdir -p $T/etc $T/lib/swtok/TOK_OBJ $T/run/opencryptoki/swtok $T/run/lock/opencryptoki/swtok $T/log/opencryptoki
printf 'version opencryptoki-3.1\\n\\nslot 3\\n{\\nstdll = libpkcs11_sw.so\\n}\\n' > $T/etc/opencryptoki.conf
chmod 1777 $T/run/lock
chgrp -R pkcs11 $T/lib $T/run/opencryptoki $T/run/lock/opencryptoki $T/log/opencryptoki
chmod -R g+rwx,o-rwx $T/lib $T/run/opencryptoki $T/run/lock/opencryptoki
mount --bind $T/etc /etc/opencryptoki
mount --bind $T/lib /var/lib/opencryptoki
mount --bind $T/run /run
mount --bind $T/log /var/log
pkcsslotd
trap 'kill $(cat /run/pkcsslotd.pid 2>/dev/null) 2>/dev/null || true' EXIT
"$@"
`;

/** Why the opencryptoki tests cannot run here, or undefined when they can. */
export function opencryptokiMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'opencryptoki tests need root (a private mount namespace for pkcsslotd)';
  if (!OCK_MODULE_CANDIDATES.some((p) => existsSync(p))) return 'opencryptoki is not installed: apt-get install opencryptoki';
  for (const bin of ['pkcsslotd', 'pkcsconf', 'unshare']) {
    try {
      execFileSync('which', [bin], { stdio: 'ignore' });
    } catch {
      return `${bin} is not installed (apt-get install opencryptoki util-linux)`;
    }
  }
  return undefined;
}

export interface OckToken {
  dir: string;
  module: string;
  label: string;
  pin: string;
  /** Runs a command inside the token's namespace, with its pkcsslotd. */
  run(cmd: string[], o?: { env?: NodeJS.ProcessEnv; input?: string }): { status: number; stdout: string; stderr: string };
}

export function makeOckToken(label: string, pin: string): OckToken {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-ock-'));
  const script = path.join(dir, 'ns.sh');
  writeFileSync(script, SETUP, { mode: 0o755 });
  const root = path.join(dir, 'root');
  mkdirSync(root);
  const module = OCK_MODULE_CANDIDATES.find((p) => existsSync(p))!;
  const run: OckToken['run'] = (cmd, o = {}) => {
    const r = spawnSync('unshare', ['-m', '-i', '--propagation', 'private', script, root, ...cmd], { input: o.input ?? '', env: { ...process.env, ...o.env }, encoding: 'utf8', timeout: 300_000 });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  // The soft token as shipped: SO PIN 87654321 and user PIN unset, both to be changed before use.
  const steps = [
    { cmd: ['pkcsconf', '-I', '-c', '3', '-S', '87654321'], input: `${label}\n` },
    { cmd: ['pkcsconf', '-P', '-c', '3', '-S', '87654321', '-n', OCK_SO_PIN] },
    { cmd: ['pkcsconf', '-u', '-c', '3', '-S', OCK_SO_PIN, '-n', `${pin}0`] },
    { cmd: ['pkcsconf', '-p', '-c', '3', '-U', `${pin}0`, '-n', pin] },
  ];
  for (const s of steps) {
    const r = run(s.cmd, { input: s.input });
    if (r.status !== 0) throw new Error(`opencryptoki set-up: ${s.cmd.join(' ')} failed: ${(r.stderr || r.stdout).trim()}`);
  }
  return { dir, module, label, pin, run };
}
