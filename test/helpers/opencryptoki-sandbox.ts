/**
 * opencryptoki's soft token (libpkcs11_sw), set up from scratch for one test run, as root.
 *
 * opencryptoki 3.8 compiles in its paths (/etc/opencryptoki, /var/lib/opencryptoki, the slot
 * daemon's socket and pid in /run, its lock in /run/lock, logs in /var/log) and keeps shared state
 * in System V IPC and /dev/shm. So the slot daemon runs in a private mount + IPC namespace
 * (`unshare -m -i`, mounts private) with temp folders bind-mounted over those paths and a fresh
 * tmpfs on /dev/shm: the machine's own opencryptoki, if any, is never seen or touched.
 *
 * Everything that talks to the token — pkcsconf, pkcs11-tool, the Keyrite CLI — must run in that
 * same namespace: `inside(argv)` prefixes a command with `nsenter` into the daemon's namespaces.
 * Paths outside the bind-mounted ones (the worktree, /tmp) are the same inside and out.
 */
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { isAlive, libCandidates, requireFile, requireTools, run, SandboxSetupError, startDaemon, stopOnExit, stopPid, waitFor } from './sandbox-process.ts';

export const OCK_SO_PIN_DEFAULT = '87654321';
/** The soft token's slot in our opencryptoki.conf (the Debian default puts the soft token at 3). */
export const OCK_SW_SLOT = 3;

export interface OpencryptokiSandbox {
  dir: string;
  module: string;
  tokenLabel: string;
  pin: string;
  soPin: string;
  slot: number;
  /** The serial the soft token reports (opencryptoki 3.8: always "123"). */
  serial: string;
  /** argv that runs `argv` inside the slot daemon's namespaces, in `cwd`. */
  inside(argv: string[], cwd?: string): string[];
  /** pkcs11-tool, inside, logged in: the labels of every object on the token. */
  objectLabels(): string[];
  /** Stops the slot daemon (the namespace goes with it) and removes every folder. */
  dispose(): void;
}

export interface OpencryptokiOptions {
  tokenLabel?: string;
  /** opencryptoki 3.8's soft token takes PINs of 4..8 characters. */
  pin?: string;
  soPin?: string;
  /** Bound on each step (daemon start, each pkcsconf call). */
  timeoutMs?: number;
}

export function startOpencryptoki(o: OpencryptokiOptions = {}): OpencryptokiSandbox {
  if (process.getuid?.() !== 0) throw new SandboxSetupError('the opencryptoki sandbox needs root (it mounts over /etc/opencryptoki in a private namespace)');
  requireTools({ pkcsslotd: 'opencryptoki', pkcsconf: 'opencryptoki', 'pkcs11-tool': 'opensc', unshare: 'util-linux', nsenter: 'util-linux' }, 'the opencryptoki sandbox');
  const module = requireFile(libCandidates('pkcs11/libopencryptoki.so').concat(libCandidates('opencryptoki/libopencryptoki.so')), 'libopencryptoki0', "opencryptoki's PKCS#11 module");
  requireFile(libCandidates('opencryptoki/stdll/libpkcs11_sw.so'), 'opencryptoki', "opencryptoki's soft token (libpkcs11_sw.so)");

  const timeoutMs = o.timeoutMs ?? 20_000;
  const tokenLabel = o.tokenLabel ?? 'keyrite-ock';
  const pin = o.pin ?? '24681357';
  const soPin = o.soPin ?? '11223344';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-ock-'));
  const d = (...p: string[]) => path.join(dir, ...p);
  for (const sub of ['etc', 'lib/swtok/TOK_OBJ', 'run/lock/opencryptoki', 'log/opencryptoki']) mkdirSync(d(sub), { recursive: true });
  writeFileSync(d('etc', 'opencryptoki.conf'), `version opencryptoki-3.8\n\nslot ${OCK_SW_SLOT}\n{\nstdll = libpkcs11_sw.so\n}\n`);
  // The library insists its folders belong to group pkcs11 (the package creates it).
  const gid = Number(/^pkcs11:[^:]*:(\d+):/m.exec(readFileSync('/etc/group', 'utf8'))?.[1] ?? NaN);
  if (Number.isFinite(gid)) for (const sub of ['lib', 'lib/swtok', 'lib/swtok/TOK_OBJ', 'run/lock', 'run/lock/opencryptoki', 'log/opencryptoki']) chownSync(d(sub), 0, gid);

  const mounts = [
    ['etc', '/etc/opencryptoki'],
    ['lib', '/var/lib/opencryptoki'],
    ['run', '/run'],
    ['log', '/var/log'],
  ]
    .map(([from, to]) => `mount --bind '${d(from)}' '${to}'`)
    .concat(['mount -t tmpfs -o size=16m,mode=1777 keyrite-ock-shm /dev/shm', 'exec pkcsslotd -f'])
    .join(' && ');
  // Without --fork, unshare execs sh which execs pkcsslotd: the child's pid is the daemon's.
  const daemon = startDaemon('unshare', ['-m', '-i', '--propagation', 'private', 'sh', '-c', mounts], d('pkcsslotd.log'));
  const pid = daemon.pid;
  const unregister = stopOnExit(() => [pid]);
  const log = () => {
    try {
      return readFileSync(d('pkcsslotd.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const inside = (argv: string[], cwd = process.cwd()) => ['nsenter', '-t', String(pid), '-m', '-i', `--wd=${cwd}`, ...argv];
  const runInside = (argv: string[], what: string, input = '') => {
    const [cmd, ...args] = inside(argv);
    return run(cmd!, args, { what, input, timeoutMs });
  };
  const sandbox: OpencryptokiSandbox = {
    dir,
    module,
    tokenLabel,
    pin,
    soPin,
    slot: OCK_SW_SLOT,
    serial: '',
    inside,
    objectLabels() {
      const r = runInside(['pkcs11-tool', '--module', module, '--slot', String(OCK_SW_SLOT), '--login', '--pin', pin, '--list-objects'], 'pkcs11-tool --list-objects');
      return [...r.stdout.matchAll(/^\s*label:\s*(.*)$/gm)].map((m) => m[1]!.trim());
    },
    dispose() {
      stopPid(pid);
      unregister();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    // The socket appears in our run/ folder once the daemon listens.
    waitFor(() => {
      if (!isAlive(pid)) throw new SandboxSetupError(`pkcsslotd exited at start: ${log().trim().split('\n').slice(-3).join(' | ')}`);
      return spawnSync('test', ['-S', d('run', 'pkcsslotd.socket')]).status === 0;
    }, timeoutMs, 'pkcsslotd', log);
    // pkcsconf -I asks for the label on stdin; the default SO PIN must be changed before use.
    runInside(['pkcsconf', '-I', '-c', String(OCK_SW_SLOT), '-S', OCK_SO_PIN_DEFAULT], 'pkcsconf -I (initialise the soft token)', `${tokenLabel}\n`);
    runInside(['pkcsconf', '-P', '-c', String(OCK_SW_SLOT), '-S', OCK_SO_PIN_DEFAULT, '-n', soPin], 'pkcsconf -P (set the SO PIN)');
    runInside(['pkcsconf', '-u', '-c', String(OCK_SW_SLOT), '-S', soPin, '-n', '13572468'], 'pkcsconf -u (initialise the user PIN)');
    // A user PIN set by the SO is "to be changed": the user sets their own.
    runInside(['pkcsconf', '-p', '-c', String(OCK_SW_SLOT), '-U', '13572468', '-n', pin], 'pkcsconf -p (set the user PIN)');
    const info = runInside(['pkcsconf', '-t', '-c', String(OCK_SW_SLOT)], 'pkcsconf -t').stdout;
    const label = /Label:\s*(.*?)\s*$/m.exec(info)?.[1];
    if (label !== tokenLabel) throw new SandboxSetupError(`opencryptoki soft token shows label '${label}', expected '${tokenLabel}'`);
    sandbox.serial = /Serial Number:\s*(\S+)/.exec(info)?.[1] ?? '';
  } catch (e) {
    sandbox.dispose();
    throw e;
  }
  return sandbox;
}
