/**
 * What the opencryptoki and tpm2 sandboxes share: finding the Debian tools and modules (failing
 * loudly, with the apt package to install, when one is missing), running a tool with a bounded
 * time, waiting for a daemon to come up, and stopping the daemons this run started — by their own
 * pids, never by name, so nothing else on the machine is touched.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';

/** A missing tool or module: the test fails with this, naming what to install. */
export class SandboxSetupError extends Error {}

/** Blocks the (test) thread for `ms` — the sandboxes start synchronously inside beforeAll. */
export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Each `tool` must be on PATH; `pkg` is the Debian package that ships it. */
export function requireTools(tools: Record<string, string>, what: string): void {
  const missing = Object.entries(tools).filter(([tool]) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0);
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map(([, pkg]) => pkg))].join(' ');
  throw new SandboxSetupError(
    `${what} cannot be set up: ${missing.map(([t]) => t).join(', ')} not found; install with: apt-get install ${pkgs} (CI: .ci/run installs them)`,
  );
}

/** The first of `candidates` that exists (multiarch directories differ), else a loud failure. */
export function requireFile(candidates: string[], pkg: string, what: string): string {
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new SandboxSetupError(`${what} not found (looked in ${candidates.join(', ')}); install with: apt-get install ${pkg}`);
  return found;
}

/** The lib directories a Debian/Ubuntu/Fedora package may use for `rel`. */
export function libCandidates(rel: string): string[] {
  return ['x86_64-linux-gnu', 'aarch64-linux-gnu', 'arm-linux-gnueabihf', 'powerpc64le-linux-gnu', 's390x-linux-gnu']
    .map((a) => `/usr/lib/${a}/${rel}`)
    .concat([`/usr/lib64/${rel}`, `/usr/lib/${rel}`]);
}

/** Runs a tool to completion within `timeoutMs`; throws with its stderr when it fails. */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string; what?: string } = {},
): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, {
    env: opts.env ?? process.env,
    input: opts.input ?? '',
    cwd: opts.cwd,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30_000,
    killSignal: 'SIGKILL',
  });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`;
    throw new SandboxSetupError(`${opts.what ?? cmd} failed: ${cmd} ${args.join(' ')}: ${why}`);
  }
  return r;
}

/** Polls `ready` every 100 ms up to `timeoutMs`; fails naming `what` (and the daemon's log). */
export function waitFor(ready: () => boolean, timeoutMs: number, what: string, log?: () => string): void {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (ready()) return;
    sleepMs(100);
  }
  throw new SandboxSetupError(`${what} did not come up within ${timeoutMs} ms${log ? `: ${log().trim().split('\n').slice(-5).join(' | ')}` : ''}`);
}

/** A daemon started in the background, its output going to `logFile`. */
export function startDaemon(cmd: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(cmd, args, { env: env ?? process.env, stdio: ['ignore', fd, fd], detached: true });
    child.unref();
    child.on('error', () => undefined);
    return child;
  } finally {
    closeSync(fd);
  }
}

/** Running, and not a zombie (a child that exited while this thread was blocked is not reaped yet). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; only the pid given (a daemon this run started). */
export function stopPid(pid: number | undefined, graceMs = 3000): void {
  if (!pid || !alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const end = Date.now() + graceMs;
  while (Date.now() < end && alive(pid)) sleepMs(50);
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function tcpListening(port: number): boolean {
  return spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`], { stdio: 'ignore', timeout: 2000 }).status === 0;
}

/** Whether `pid` still runs (a daemon that died at start is reported with its log). */
export function isAlive(pid: number | undefined): boolean {
  return !!pid && alive(pid);
}

/**
 * Stops these pids when the test process exits without running its afterAll (a worker killed on a
 * timeout): daemons of a finished run must not outlive it. Returns the unregister function.
 */
export function stopOnExit(pids: () => (number | undefined)[]): () => void {
  const handler = () => {
    for (const pid of pids()) {
      try {
        if (pid) process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  process.once('exit', handler);
  return () => process.removeListener('exit', handler);
}
