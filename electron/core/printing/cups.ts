/**
 * Asking CUPS about a print queue with its own client tools (`lpstat`, `lpoptions`, `cupsctl`), so
 * that Keyrite sees what CUPS itself reports: the tools follow CUPS_SERVER, client.conf and the
 * system's defaults exactly as `lp` will when the sheet is sent. Plain Node, no secrets.
 */
import { execFile } from 'node:child_process';
import { OperationError } from '../errors.ts';

export interface CupsEnv {
  /** The environment for CUPS's tools (PATH, CUPS_SERVER). Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Timeout for each tool call. */
  timeoutMs?: number;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one CUPS tool without a shell; a tool that is not installed is an OperationError naming the package. */
export function runTool(cmd: string, args: string[], opts: CupsEnv & { input?: Buffer } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { env: { ...(opts.env ?? process.env), LC_ALL: 'C', LANG: 'C' }, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 4 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
        if (e && e.code === 'ENOENT') {
          reject(new OperationError(`${cmd} is not installed; install the CUPS client tools (Debian: apt-get install cups-client cups-bsd)`));
          return;
        }
        if (e && e.killed) {
          reject(new OperationError(`${cmd} ${args.join(' ')} did not answer within ${Math.round((opts.timeoutMs ?? 30_000) / 1000)} s; is the CUPS scheduler running?`));
          return;
        }
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr });
      },
    );
    if (opts.input) {
      child.stdin?.on('error', () => {
        /* the tool exited early; its exit status says why */
      });
      child.stdin?.end(opts.input);
    } else child.stdin?.end();
  });
}

const firstLine = (s: string) => s.trim().split('\n')[0] ?? '';

/** A queue as CUPS reports it. */
export interface QueueInfo {
  name: string;
  exists: boolean;
  enabled: boolean;
  acceptingJobs: boolean;
  deviceUri: string;
  /** The tools' own words when the queue is unknown or the scheduler does not answer. */
  problem?: string;
}

/** Splits `lpoptions -p` output (name=value pairs, values quoted shell-style when they hold spaces). */
export function parseLpoptions(out: string): Map<string, string> {
  const map = new Map<string, string>();
  const re = /([A-Za-z0-9_-]+)(?:=((?:'[^']*'|"(?:[^"\\]|\\.)*"|\\.|[^\s'"\\])*))?/g;
  for (const m of out.matchAll(re)) {
    const raw = m[2] ?? '';
    const value = raw.replace(/'([^']*)'|"((?:[^"\\]|\\.)*)"|\\(.)/g, (_, a, b, c) => a ?? (b !== undefined ? b.replace(/\\(.)/g, '$1') : c));
    map.set(m[1], value);
  }
  return map;
}

/** `lpstat -p QUEUE` says enabled/disabled; `lpoptions -p QUEUE` gives the exact device-uri (lpstat -v shortens file: URIs). */
export async function queueInfo(name: string, opts: CupsEnv = {}): Promise<QueueInfo> {
  const p = await runTool('lpstat', ['-p', name], opts);
  if (p.code !== 0) {
    return { name, exists: false, enabled: false, acceptingJobs: false, deviceUri: '', problem: firstLine(p.stderr || p.stdout) || `lpstat exited with status ${p.code}` };
  }
  const enabled = new RegExp(`^printer ${escapeRe(name)} (is idle|now printing|is printing)`, 'm').test(p.stdout) && !/disabled since/.test(p.stdout);
  const o = await runTool('lpoptions', ['-p', name], opts);
  if (o.code !== 0) return { name, exists: true, enabled, acceptingJobs: false, deviceUri: '', problem: firstLine(o.stderr || o.stdout) };
  const attrs = parseLpoptions(o.stdout);
  return { name, exists: true, enabled, acceptingJobs: attrs.get('printer-is-accepting-jobs') === 'true', deviceUri: attrs.get('device-uri') ?? '' };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Every queue CUPS knows (`lpstat -v`), with the exact device URI of each. */
export async function listQueues(opts: CupsEnv = {}): Promise<QueueInfo[]> {
  const v = await runTool('lpstat', ['-v'], opts);
  if (v.code !== 0) return [];
  const names = [...v.stdout.matchAll(/^device for ([^:\s]+):/gm)].map((m) => m[1]);
  const out: QueueInfo[] = [];
  for (const n of names) out.push(await queueInfo(n, opts));
  return out;
}

/** What cupsctl reports about keeping job files; absent settings take CUPS's defaults (files kept one day, history kept). */
export interface ServerSettings {
  reachable: boolean;
  problem?: string;
  preserveJobFiles: string;
  preserveJobHistory: string;
}

/** CUPS's time-or-boolean values: "No"/"Off"/"false" and zero mean nothing is kept. */
export function keepsNothing(value: string): boolean {
  return /^(no|off|false|0+\s*[smhdw]?)$/i.test(value.trim());
}

export async function serverSettings(opts: CupsEnv = {}): Promise<ServerSettings> {
  const r = await runTool('cupsctl', [], opts);
  if (r.code !== 0) return { reachable: false, problem: firstLine(r.stderr || r.stdout) || `cupsctl exited with status ${r.code}`, preserveJobFiles: '', preserveJobHistory: '' };
  const get = (k: string) => new RegExp(`^${k}=(.*)$`, 'mi').exec(r.stdout)?.[1]?.trim();
  // cupsctl prints only settings cupsd.conf sets; the defaults are PreserveJobFiles 86400 (a day) and PreserveJobHistory Yes.
  return { reachable: true, preserveJobFiles: get('PreserveJobFiles') ?? '86400 (the CUPS default)', preserveJobHistory: get('PreserveJobHistory') ?? 'Yes (the CUPS default)' };
}
