/**
 * A private, real CUPS scheduler for the printing tests: `cupsd -f` with its own ServerRoot, spool,
 * cache, state and logs under a test folder, listening on 127.0.0.1 at a free high port (cupsctl
 * reads the server's settings only over TCP), `FileDevice Yes` so that a queue may print to
 * file:/dev/null. The system's CUPS is never touched. Needs the cups, cups-client and cups-bsd packages.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface PrivateCupsd {
  server: string;
  serverRoot: string;
  spoolDir: string;
  /** Environment for CUPS's client tools (and the CLI) to talk to this scheduler. */
  env: NodeJS.ProcessEnv;
  addQueue(name: string, deviceUri: string): void;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.end();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`private cupsd did not listen on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startCupsd(dir: string, o: { keepJobFiles?: boolean } = {}): Promise<PrivateCupsd> {
  const root = path.join(dir, 'root');
  const spool = path.join(dir, 'spool');
  for (const d of [root, spool, path.join(spool, 'tmp'), path.join(dir, 'cache'), path.join(dir, 'state'), path.join(dir, 'log')]) mkdirSync(d, { recursive: true });
  const port = await freePort();
  writeFileSync(
    path.join(root, 'cups-files.conf'),
    [`ServerRoot ${root}`, `RequestRoot ${spool}`, `TempDir ${path.join(spool, 'tmp')}`, `CacheDir ${path.join(dir, 'cache')}`, `StateDir ${path.join(dir, 'state')}`,
      `AccessLog ${path.join(dir, 'log', 'access_log')}`, `ErrorLog ${path.join(dir, 'log', 'error_log')}`, `PageLog ${path.join(dir, 'log', 'page_log')}`, 'FileDevice Yes', ''].join('\n'),
  );
  const keep = o.keepJobFiles ? 'Yes' : 'No';
  writeFileSync(
    path.join(root, 'cupsd.conf'),
    [`Listen 127.0.0.1:${port}`, 'LogLevel warn', `PreserveJobFiles ${keep}`, `PreserveJobHistory ${keep}`, 'Browsing Off', 'WebInterface No', 'DefaultAuthType None',
      '<Location />', 'Order allow,deny', 'Allow all', '</Location>', '<Policy default>', '<Limit All>', 'Order deny,allow', '</Limit>', '</Policy>', ''].join('\n'),
  );
  const child: ChildProcess = spawn('cupsd', ['-f', '-c', path.join(root, 'cupsd.conf'), '-s', path.join(root, 'cups-files.conf')], { stdio: 'ignore' });
  const server = `127.0.0.1:${port}`;
  // CUPS_SERVERROOT: the client tools find no client.conf there, and Keyrite reads RequestRoot from it.
  const env = { ...process.env, CUPS_SERVER: server, CUPS_SERVERROOT: root };
  await waitForPort(port, 10_000);
  return {
    server,
    serverRoot: root,
    spoolDir: spool,
    env,
    addQueue(name, deviceUri) {
      execFileSync('lpadmin', ['-p', name, '-v', deviceUri, '-E'], { env, stdio: 'pipe' });
    },
    async stop() {
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}
