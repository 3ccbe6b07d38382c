/**
 * One share sheet to paper: the PDF (a Buffer, never a file) goes to `lp` on its standard input;
 * Keyrite waits until CUPS has finished the job and then checks that no file of the job is left in
 * the spool (`c<id>` the job record, `d<id>-<n>` the document). The job title names no custodian.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { OperationError } from '../errors.ts';
import { runTool, type CupsEnv } from './cups.ts';

export interface PrintedJob {
  jobId: number;
  /** True when, after the job finished, neither its record nor its document was in the spool. */
  spoolClean: boolean;
  /** The job's files still there (names only), when not clean. */
  leftOver: string[];
}

export interface PrintJobOptions extends CupsEnv {
  spoolDir: string;
  /** How long the job may take to finish (a printer warming up, out of paper). */
  jobTimeoutMs?: number;
  /** How long CUPS is given to remove the job's files once it has finished. */
  cleanupTimeoutMs?: number;
  pollMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Names of the job's files in the spool: by listing it when allowed, else by looking up the names CUPS uses. */
export function jobFilesInSpool(spoolDir: string, jobId: number): string[] {
  const id = String(jobId).padStart(5, '0');
  const mine = new RegExp(`^(c${id}|d${id}-\\d{3})$`);
  try {
    return readdirSync(spoolDir).filter((n) => mine.test(n));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EACCES') throw err;
  }
  // A spool that may be searched but not listed (root:lp 0710): stat the exact names.
  const names = [`c${id}`, ...Array.from({ length: 9 }, (_, i) => `d${id}-${String(i + 1).padStart(3, '0')}`)];
  return names.filter((n) => {
    try {
      statSync(path.join(spoolDir, n));
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return false;
      throw new OperationError(`cannot check the CUPS spool ${spoolDir} for job ${jobId} (${code})`);
    }
  });
}

async function jobActive(queue: string, jobId: number, opts: CupsEnv): Promise<boolean> {
  const r = await runTool('lpstat', ['-W', 'not-completed', '-o', queue], opts);
  if (r.code !== 0) throw new OperationError(`cannot ask CUPS about job ${queue}-${jobId}: ${r.stderr.trim().split('\n')[0]}`);
  return new RegExp(`^${queue.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-${jobId}\\s`, 'm').test(r.stdout);
}

/** Sends the PDF to the queue, waits for the job to finish, checks the spool. */
export async function printPdf(queue: string, pdf: Buffer, opts: PrintJobOptions): Promise<PrintedJob> {
  const r = await runTool('lp', ['-d', queue, '-t', 'keyrite sheet', '-o', 'job-sheets=none', '-o', 'document-format=application/pdf'], { ...opts, input: pdf });
  if (r.code !== 0) throw new OperationError(`printer '${queue}' refused the sheet: ${(r.stderr || r.stdout).trim().split('\n')[0]}`);
  const m = /request id is \S+-(\d+)/.exec(r.stdout);
  if (!m) throw new OperationError(`printer '${queue}': lp did not say which job it created (${r.stdout.trim()})`);
  const jobId = Number(m[1]);
  const poll = opts.pollMs ?? 200;
  const jobDeadline = Date.now() + (opts.jobTimeoutMs ?? 300_000);
  while (await jobActive(queue, jobId, opts)) {
    if (Date.now() > jobDeadline)
      throw new OperationError(`printer '${queue}': job ${jobId} has not finished within ${Math.round((opts.jobTimeoutMs ?? 300_000) / 1000)} s; check the printer, then cancel the job with \`cancel -x ${queue}-${jobId}\``);
    await sleep(poll);
  }
  const cleanDeadline = Date.now() + (opts.cleanupTimeoutMs ?? 5_000);
  let left = jobFilesInSpool(opts.spoolDir, jobId);
  while (left.length && Date.now() < cleanDeadline) {
    await sleep(poll);
    left = jobFilesInSpool(opts.spoolDir, jobId);
  }
  return { jobId, spoolClean: left.length === 0, leftOver: left };
}
