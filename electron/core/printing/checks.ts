/**
 * The checks before the first share sheet is printed (docs/sheets.md): the queue exists and takes jobs,
 * its device is attached to this machine, the CUPS server is this machine's, CUPS keeps neither the
 * job's files nor its record after printing, and the spool can be checked after each job. Each
 * failure says which setting and how to fix it. Run in preflight, before any key exists.
 */
import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import path from 'node:path';
import { OperationError } from '../errors.ts';
import { keepsNothing, queueInfo, runTool, serverSettings, type CupsEnv } from './cups.ts';

export interface PrinterCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** `printer.checked` event data (and the report's printer section). */
export interface PrinterCheckResult {
  queue: string;
  deviceUri: string;
  checks: PrinterCheck[];
}

export interface PrinterOptions extends CupsEnv {
  /** The CUPS spool (RequestRoot). Default: read from cups-files.conf, else /var/spool/cups. */
  spoolDir?: string;
}

/** Local device schemes: a cable to this machine. `file:/dev/null` (exactly) lets tests print to nowhere. */
const LOCAL_SCHEMES = ['usb', 'parallel', 'serial'];
export const NULL_DEVICE = 'file:/dev/null';

export function deviceIsLocal(uri: string): boolean {
  if (uri === NULL_DEVICE) return true;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase();
  return scheme !== undefined && LOCAL_SCHEMES.includes(scheme);
}

/** A server on this machine: a local socket path or a loopback address (what `lpstat -H` prints). */
export function serverIsLocal(server: string): boolean {
  const s = server.trim();
  if (s.startsWith('/')) return true;
  const host = s.startsWith('[') ? s.slice(1, s.indexOf(']')) : s.replace(/:\d+$/, '');
  return ['localhost', '127.0.0.1', '::1'].includes(host.toLowerCase());
}

/** RequestRoot from cups-files.conf in CUPS_SERVERROOT (the same variable cupsd and the tools read). */
export function spoolDirFor(env: NodeJS.ProcessEnv = process.env): string {
  const root = env.CUPS_SERVERROOT || '/etc/cups';
  try {
    const conf = readFileSync(path.join(root, 'cups-files.conf'), 'utf8');
    const m = /^\s*RequestRoot\s+(\S+)\s*$/im.exec(conf);
    if (m) return m[1];
  } catch {
    /* not readable: CUPS's default */
  }
  return '/var/spool/cups';
}

export const PRESERVE_FIX = 'run `cupsctl PreserveJobFiles=No PreserveJobHistory=No` (or set "PreserveJobFiles No" and "PreserveJobHistory No" in cupsd.conf and restart cupsd)';

/** Runs every check; never throws for a failed check (the caller records them, then refuses). */
export async function checkPrinter(queue: string, opts: PrinterOptions = {}): Promise<PrinterCheckResult> {
  const checks: PrinterCheck[] = [];
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const q = await queueInfo(queue, opts);
  if (!q.exists) add('queue', false, `CUPS has no queue '${queue}' (${q.problem}); list the queues with \`lpstat -v\``);
  else if (!q.enabled || !q.acceptingJobs)
    add('queue', false, `queue '${queue}' is ${!q.enabled ? 'disabled' : 'not accepting jobs'}; run \`cupsenable ${queue}\` and \`cupsaccept ${queue}\``);
  else add('queue', true, `queue '${queue}' exists, is enabled and accepts jobs`);

  if (q.exists)
    add(
      'device',
      deviceIsLocal(q.deviceUri),
      deviceIsLocal(q.deviceUri)
        ? `device ${q.deviceUri} is attached to this machine`
        : `device ${q.deviceUri || '(none)'} is not a local printer (usb:, parallel: or serial:); a network queue sends the share words over the wire`,
    );

  const h = await runTool('lpstat', ['-H'], opts);
  const server = h.stdout.trim();
  add('server', h.code === 0 && serverIsLocal(server), h.code === 0 ? (serverIsLocal(server) ? `CUPS server ${server} is this machine` : `CUPS server ${server} is another machine (CUPS_SERVER or client.conf ServerName); print through this machine's own cupsd`) : `cannot tell which CUPS server is used (${h.stderr.trim()})`);

  const s = await serverSettings(opts);
  if (!s.reachable) add('job files', false, `cannot read the CUPS server's settings with cupsctl (${s.problem})`);
  else {
    add('job files', keepsNothing(s.preserveJobFiles), keepsNothing(s.preserveJobFiles) ? `PreserveJobFiles ${s.preserveJobFiles}: the PDF is removed once printed` : `the CUPS server keeps job files after printing (PreserveJobFiles ${s.preserveJobFiles}); ${PRESERVE_FIX}`);
    add('job history', keepsNothing(s.preserveJobHistory), keepsNothing(s.preserveJobHistory) ? `PreserveJobHistory ${s.preserveJobHistory}: no job record stays in the spool` : `the CUPS server keeps job records after printing (PreserveJobHistory ${s.preserveJobHistory}); ${PRESERVE_FIX}`);
  }

  const spool = opts.spoolDir ?? spoolDirFor(opts.env);
  let searchable = true;
  try {
    accessSync(spool, fsConstants.X_OK);
  } catch {
    searchable = false;
  }
  add('spool', searchable, searchable ? `spool ${spool} can be checked after each job` : `spool ${spool} cannot be checked for left-over job files; run keyrite as root or as a member of group lp (or set CUPS_SERVERROOT to the folder of cups-files.conf)`);
  return { queue, deviceUri: q.deviceUri, checks };
}

/** The first failed check as a one-line error (exit 1), naming the queue, the check and the fix. */
export function assertPrinter(r: PrinterCheckResult): void {
  const bad = r.checks.find((c) => !c.ok);
  if (bad) throw new OperationError(`printer '${r.queue}': ${bad.name}: ${bad.detail}`);
}
