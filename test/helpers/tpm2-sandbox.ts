/**
 * tpm2-pkcs11 over a software TPM (swtpm), set up from scratch for one test run.
 *
 * tpm2-pkcs11 straight on swtpm's TCTI fails in `tpm2_ptool addtoken` (the TPM runs out of object
 * memory: nothing flushes the transient objects between commands), so the TPM is reached the way a
 * real machine does, through the access broker: swtpm on 127.0.0.1 only, a private D-Bus session
 * bus in our temp folder, `tpm2-abrmd --session` on that bus, and tpm2-pkcs11 / tpm2-tools told
 * `tabrmd:bus_type=session`. The token store (sqlite) is a temp folder (TPM2_PKCS11_STORE).
 *
 * Every token tpm2-pkcs11 makes reports the serial 0000000000000000 — which is the point of the
 * tests that make several.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isAlive, libCandidates, requireFile, requireTools, run, SandboxSetupError, startDaemon, stopOnExit, stopPid, tcpListening, waitFor } from './sandbox-process.ts';

export const TPM2_SERIAL = '0000000000000000';

export interface Tpm2Token {
  label: string;
  /** The PKCS#11 slot id the token is in (as `hsm list` shows it). */
  slot: number;
}

export interface Tpm2Sandbox {
  dir: string;
  module: string;
  pin: string;
  soPin: string;
  tokens: Tpm2Token[];
  /** process.env plus what tpm2-pkcs11 needs to reach this sandbox's TPM and store. */
  env: NodeJS.ProcessEnv;
  /** pkcs11-tool, logged in to the token with this label: the labels of every object on it. */
  objectLabels(tokenLabel: string): string[];
  /** Stops abrmd, the bus and swtpm (this run's pids only) and removes every folder. */
  dispose(): void;
}

export interface Tpm2Options {
  /** One token per label, in this order (all with serial 0000000000000000). */
  labels?: string[];
  pin?: string;
  soPin?: string;
  timeoutMs?: number;
}

/** A port pair (server, server+1 for control) unlikely to clash with another test file's. */
function pickPort(): number {
  for (let i = 0; i < 50; i++) {
    const p = 20000 + 2 * Math.floor(Math.random() * 15000);
    if (!tcpListening(p) && !tcpListening(p + 1)) return p;
  }
  throw new SandboxSetupError('no free TCP port pair for swtpm on 127.0.0.1');
}

export function startTpm2(o: Tpm2Options = {}): Tpm2Sandbox {
  requireTools(
    { swtpm: 'swtpm', 'tpm2-abrmd': 'tpm2-abrmd', 'dbus-daemon': 'dbus', tpm2_ptool: 'libtpm2-pkcs11-tools', tpm2_getrandom: 'tpm2-tools', 'pkcs11-tool': 'opensc' },
    'the tpm2-pkcs11 sandbox',
  );
  const module = requireFile(libCandidates('pkcs11/libtpm2_pkcs11.so').concat(libCandidates('libtpm2_pkcs11.so.1')), 'libtpm2-pkcs11-1', 'the tpm2-pkcs11 module');
  requireFile(libCandidates('libtss2-tcti-tabrmd.so.0'), 'libtss2-tcti-tabrmd0', 'the tabrmd TCTI (libtss2-tcti-tabrmd.so.0)');
  requireFile(libCandidates('libtss2-tcti-swtpm.so.0'), 'libtss2-tcti-swtpm0', 'the swtpm TCTI (libtss2-tcti-swtpm.so.0)');

  const timeoutMs = o.timeoutMs ?? 20_000;
  const labels = o.labels ?? ['keyrite-tpm'];
  const pin = o.pin ?? '24681357';
  const soPin = o.soPin ?? '87654321';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-tpm2-'));
  const d = (...p: string[]) => path.join(dir, ...p);
  for (const sub of ['state', 'store']) mkdirSync(d(sub), { mode: 0o700 });
  const logOf = (f: string) => () => {
    try {
      return readFileSync(d(f), 'utf8');
    } catch {
      return '';
    }
  };
  const bus = `unix:path=${d('bus')}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DBUS_SESSION_BUS_ADDRESS: bus,
    TPM2_PKCS11_TCTI: 'tabrmd:bus_type=session',
    TPM2TOOLS_TCTI: 'tabrmd:bus_type=session',
    TPM2_PKCS11_STORE: d('store'),
    // Errors only: its warnings on stderr would pass for Keyrite's.
    TPM2_PKCS11_LOG_LEVEL: '0',
  };
  const pids: (number | undefined)[] = [];
  const tokens: Tpm2Token[] = [];
  const unregister = stopOnExit(() => pids);
  const sandbox: Tpm2Sandbox = {
    dir,
    module,
    pin,
    soPin,
    tokens,
    env,
    objectLabels(tokenLabel) {
      const r = run('pkcs11-tool', ['--module', module, '--token-label', tokenLabel, '--login', '--pin', pin, '--list-objects'], { env, timeoutMs, what: 'pkcs11-tool --list-objects' });
      return [...r.stdout.matchAll(/^\s*label:\s*(.*)$/gm)].map((m) => m[1]!.trim());
    },
    dispose() {
      // abrmd first (it holds the TPM connection and the bus name), then the bus, then the TPM.
      for (const pid of [...pids].reverse()) stopPid(pid);
      unregister();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    let port = 0;
    for (let attempt = 0; attempt < 3 && !port; attempt++) {
      const p = pickPort();
      const swtpm = startDaemon(
        'swtpm',
        ['socket', '--tpm2', '--server', `type=tcp,port=${p},bindaddr=127.0.0.1`, '--ctrl', `type=tcp,port=${p + 1},bindaddr=127.0.0.1`,
          '--flags', 'not-need-init,startup-clear', '--tpmstate', `dir=${d('state')}`],
        d('swtpm.log'),
      );
      pids.push(swtpm.pid);
      try {
        waitFor(() => {
          if (!isAlive(swtpm.pid)) throw new SandboxSetupError(`swtpm exited at start: ${logOf('swtpm.log')().trim()}`);
          return tcpListening(p);
        }, timeoutMs, 'swtpm', logOf('swtpm.log'));
        port = p;
      } catch (e) {
        stopPid(swtpm.pid);
        if (attempt === 2) throw e; // a port taken between the check and the bind: try another
      }
    }
    const dbus = startDaemon('dbus-daemon', ['--session', '--nofork', `--address=${bus}`], d('dbus.log'));
    pids.push(dbus.pid);
    waitFor(() => existsSync(d('bus')), timeoutMs, 'dbus-daemon (private session bus)', logOf('dbus.log'));
    const abrmdArgs = ['--session', `--tcti=swtpm:host=127.0.0.1,port=${port}`, '--flush-all'];
    if (process.getuid?.() === 0) abrmdArgs.push('--allow-root');
    const abrmd = startDaemon('tpm2-abrmd', abrmdArgs, d('abrmd.log'), env);
    pids.push(abrmd.pid);
    waitFor(() => {
      if (!isAlive(abrmd.pid)) throw new SandboxSetupError(`tpm2-abrmd exited at start: ${logOf('abrmd.log')().trim().split('\n').slice(-3).join(' | ')}`);
      try {
        run('tpm2_getrandom', ['--hex', '8'], { env, timeoutMs: 5000 });
        return true;
      } catch {
        return false;
      }
    }, timeoutMs, 'tpm2-abrmd', logOf('abrmd.log'));
    run('tpm2_ptool', ['init', `--path=${d('store')}`], { env, timeoutMs, what: 'tpm2_ptool init' });
    for (const label of labels) {
      run('tpm2_ptool', ['addtoken', '--pid=1', `--sopin=${soPin}`, `--userpin=${pin}`, `--label=${label}`, `--path=${d('store')}`], { env, timeoutMs, what: `tpm2_ptool addtoken ${label}` });
    }
    const listing = run('pkcs11-tool', ['--module', module, '--list-token-slots'], { env, timeoutMs, what: 'pkcs11-tool -L' }).stdout;
    for (const m of listing.matchAll(/^Slot \d+ \(0x([0-9a-f]+)\): (.*)$/gm)) {
      const label = m[2]!.trim();
      if (labels.includes(label)) tokens.push({ label, slot: parseInt(m[1]!, 16) });
    }
    if (tokens.length !== labels.length) throw new SandboxSetupError(`tpm2-pkcs11 lists ${tokens.map((t) => t.label).join(', ') || 'no token'}, expected ${labels.join(', ')}`);
  } catch (e) {
    sandbox.dispose();
    throw e;
  }
  return sandbox;
}
