import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Ceremony, type CeremonyOptions, type FrontEnd } from '../core/ceremony/engine.ts';
import { custodianOrder } from '../core/ceremony/plan.ts';
import { KeyriteError, OperationError, UsageError } from '../core/errors.ts';
import { shareSheetFileBase } from '../core/sheets/index.ts';
import type { NetworkInterfaceRecord, TranscriptEvent } from '../core/transcript/events.ts';
import { writeNewFile } from '../core/util/files.ts';
import { chromiumPdfRenderer, CupsSheetPrinter, findChromium } from '../core/printing/index.ts';
import { secretSource, type CliIO } from './command.ts';
import { acknowledgeNetwork, checkIns } from './ceremony-prompts.ts';
import { promptShareWords } from './word-prompt.ts';

export interface HeadlessRunOptions {
  planFile: string;
  outDir: string;
  /** Rehearsals only: where sheets are written as files (they hold the words). */
  sharesOut?: string;
  /** The CUPS queue the sheets are printed on (required in production). */
  printer?: string;
  confirmFrom?: string;
  ackAll: boolean;
  frontEnd: FrontEnd;
  /** The PIN itself (already read from the environment or a prompt). Never printed. */
  pin?: string;
  pinEnv?: string;
  passphraseEnv?: string;
  /** `--rehearsal` (and demo): the only way to get share files, --confirm-from and --ack-all. */
  rehearsal?: boolean;
  quiet?: boolean;
  /** Replaces core/hsm's openModule (fault-injection tests). */
  openModule?: CeremonyOptions['openModule'];
  /** A live network interface is acknowledged by this flag instead of at the prompt (recorded). */
  ackNetwork?: boolean;
  /** The machine's interfaces (tests pass their own; default: this machine's, as the transcript records them). */
  networkInterfaces?: () => NetworkInterfaceRecord[];
  /** --module-args: C_Initialize parameters when the plan has no hsm.initArgs. */
  moduleArgs?: string;
  /** Test seam: handed each KEK buffer (fault-injection tests check it is zeroed). */
  kekProbe?: CeremonyOptions['kekProbe'];
  /** Renders a sheet's HTML to PDF in memory; default: headless Chromium (core/printing). */
  renderPdf?: (html: string) => Promise<Buffer>;
}

export interface HeadlessRunResult {
  bundleDir: string;
  chainHead: string;
  signers: { keyid: string; role: string }[];
  root: { algorithm: string; label: string; fingerprint: string };
  sheets: string[];
  /** The statement digest (docs/transcript.md), shown as the paper anchor. */
  statementSha256: string;
}

function describe(ev: TranscriptEvent): string | undefined {
  const d = ev.data as Record<string, unknown>;
  switch (ev.type) {
    case 'ceremony.started':
      return `ceremony '${d.ceremonyId}' started`;
    case 'hsm.logged-in':
      return `logged in to token '${d.tokenLabel}' (serial ${d.tokenSerial})`;
    case 'selftest.kwp':
      return `RFC 5649 self-test: ${d.ok ? 'passed' : 'FAILED'} with ${d.mechanism}`;
    case 'step.acknowledged':
      return `step '${d.step}' acknowledged by ${(d.by as string[]).join(', ')}${d.method === 'ack-all' ? ' (rehearsal --ack-all)' : ''}`;
    case 'signer.generated':
      return `transcript signer generated in the token, key id ${d.keyid}`;
    case 'key.generated':
      return `root key '${d.label}' (${d.algorithm}) generated in the token`;
    case 'key.verified':
      return 'root key attributes and signature checked';
    case 'backup.split':
      return `backup key split into ${(d.shares as unknown[]).length} SLIP-39 shares`;
    case 'backup.wrapped':
      return `root key wrapped under the backup key with ${d.mechanism}`;
    case 'printer.checked':
      return `printer '${d.queue}' (${d.deviceUri}) checked: ${(d.checks as { name: string }[]).map((c) => c.name).join(', ')}`;
    case 'share.printed':
      return d.kind === 'printer'
        ? `sheet for ${d.custodian} (group ${d.group}, member ${d.member}) printed on '${d.output}' (job ${d.jobId}; spool ${d.spoolClean ? 'clean' : 'NOT clean'})`
        : `sheet for ${d.custodian} (group ${d.group}, member ${d.member}) written to a REHEARSAL file`;
    case 'backup.kek-wiped':
      return 'backup key wiped from memory';
    case 'share.confirmed':
      return `share of ${d.custodian} confirmed (${d.method})`;
    case 'backup.recovery-tested':
      return `test recovery ${d.ok ? 'succeeded' : 'FAILED'}: ${d.detail}`;
    case 'export.created':
      return `export '${d.target}' (${d.kind}, ${d.algorithm}) written`;
    case 'key.sealed':
      return 'root key sealed: no longer extractable';
    case 'note.added':
      return `note by ${ev.actor}: ${d.text}`;
    case 'exception.recorded':
      return `EXCEPTION recorded by ${ev.actor}: ${d.text}`;
    case 'ceremony.completed':
      return 'ceremony completed';
    case 'ceremony.aborted':
      return `ceremony ABORTED at ${d.step}: ${d.reason}`;
    default:
      return undefined;
  }
}

function checkDirFree(dir: string, what: string, names: string[]): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`${what} ${dir} is not a folder`);
  for (const n of names) {
    if (existsSync(path.join(dir, n))) throw new UsageError(`${what} ${dir} already holds ${n}; Keyrite never overwrites a file`);
  }
}

/**
 * A whole headless ceremony: the steps of the engine in order, with sheets written to files and
 * shares confirmed from a terminal or (rehearsals) from files. Every input is checked before the
 * token is touched; a failure after the bundle exists is recorded in the transcript as an abort.
 */
/** SPEC §1: files, --confirm-from and --ack-all only in rehearsals; production prints on a CUPS queue. */
export function checkRunMode(o: { rehearsal: boolean; sharesOut?: string; printer?: string; confirmFrom?: string; ackAll: boolean }): void {
  if (!o.rehearsal) {
    const only = o.sharesOut !== undefined ? '--shares-out' : o.confirmFrom !== undefined ? '--confirm-from' : o.ackAll ? '--ack-all' : undefined;
    if (only) throw new UsageError(`ceremony run: ${only} is for rehearsals only; add --rehearsal (the bundle then says REHEARSAL), or print with --printer QUEUE`);
    if (o.printer === undefined) throw new UsageError('ceremony run: --printer QUEUE is required: share sheets are printed on a CUPS queue (a rehearsal may write files with --rehearsal --shares-out DIR)');
  } else {
    if (o.sharesOut === undefined && o.printer === undefined) throw new UsageError('ceremony run: --rehearsal: give --shares-out DIR (sheets as files) or --printer QUEUE');
    if (o.sharesOut !== undefined && o.printer !== undefined) throw new UsageError('ceremony run: give --shares-out or --printer, not both');
    if (o.printer !== undefined && o.confirmFrom !== undefined) throw new UsageError('ceremony run: --confirm-from reads the sheet files that --shares-out writes; printed sheets are confirmed by typing');
  }
}

export async function runHeadlessCeremony(opts: HeadlessRunOptions, io: CliIO): Promise<HeadlessRunResult> {
  const rehearsal = opts.rehearsal ?? false;
  checkRunMode({ ...opts, rehearsal });
  const log = (line: string) => {
    if (!opts.quiet) io.stdout(`${line}\n`);
  };
  const ceremony = Ceremony.load(opts.planFile, {
    outDir: opts.outDir,
    frontEnd: opts.frontEnd,
    rehearsal,
    openModule: opts.openModule,
    moduleArgs: opts.moduleArgs,
    kekProbe: opts.kekProbe,
    onEvent: (ev) => {
      const line = describe(ev);
      if (line) log(`  ${ev.time.slice(11, 19)}  ${line}`);
    },
  });
  const plan = ceremony.plan;

  // Everything the run will need, checked before any HSM is opened.
  const order = custodianOrder(plan);
  const bases = order.map((o) => shareSheetFileBase(o.group, o.member, o.custodian));
  const sharesOut = opts.sharesOut;
  if (sharesOut !== undefined) {
    // Shares are never in the bundle (docs/bundle.md), not even as rehearsal files.
    const inside = path.relative(ceremony.bundleDir, path.resolve(sharesOut));
    if (inside === '' || (!inside.startsWith('..') && !path.isAbsolute(inside)))
      throw new UsageError(`--shares-out ${sharesOut} is inside the bundle folder ${ceremony.bundleDir}; shares are never in the bundle`);
    checkDirFree(sharesOut, 'shares folder', bases.flatMap((b) => [`${b}.html`, `${b}.txt`]));
    // A rehearsal that confirms from the sheets it writes: the folder is made here.
    if (opts.confirmFrom !== undefined && path.resolve(opts.confirmFrom) === path.resolve(sharesOut)) mkdirSync(sharesOut, { recursive: true });
  }
  if (opts.confirmFrom !== undefined) {
    if (!existsSync(opts.confirmFrom) || !statSync(opts.confirmFrom).isDirectory()) throw new UsageError(`--confirm-from ${opts.confirmFrom}: no such folder`);
  } else if (!io.stdinIsTTY) {
    throw new UsageError('custodians confirm their shares at a terminal prompt; without a terminal, give --confirm-from DIR (rehearsals)');
  }
  if (plan.steps.length && !opts.ackAll && !io.stdinIsTTY)
    throw new UsageError(`plan steps are acknowledged at a terminal prompt; without a terminal, give --ack-all (rehearsals)`);
  const cmd = 'ceremony run';
  const readPin = opts.pin !== undefined ? async () => opts.pin! : secretSource(io, cmd, 'pin-env', opts.pinEnv, `PIN for token '${plan.hsm.tokenLabel ?? plan.hsm.tokenSerial}'`);
  // Both checked here (variable set, or a terminal to ask at), before any HSM is opened.
  const readPassphrase = plan.backup.passphrase ? secretSource(io, cmd, 'passphrase-env', opts.passphraseEnv, 'SLIP-39 passphrase') : undefined;

  const pdf = opts.printer !== undefined && !opts.renderPdf ? chromiumPdfRenderer(io.env) : undefined;
  const printer = opts.printer !== undefined ? new CupsSheetPrinter(opts.printer, opts.renderPdf ?? ((html) => pdf!.render(html)), { env: io.env }) : undefined;
  // Signals to the process become a recorded stop (docs/decisions.md, "On the day, at the terminal").
  const stops = io.watchStops?.();
  const checkStop = () => stops?.check();
  // A stop before the bundle exists has nowhere to be recorded: it says so.
  const notBegun = (err: unknown) => {
    try {
      checkStop();
    } catch (stop) {
      if (stop === err) return new OperationError(`${(err as Error).message} before the ceremony began; no bundle was created, so there is nothing to record it in`);
    }
    return err;
  };
  try {
    const report = ceremony.preflight();
    Ceremony.assertPreflight(report);
    log(`preflight passed: token '${report.token!.label}' (serial ${report.token!.serialNumber})`);
    const admin = plan.participants.find((p) => p.role === 'administrator')!.id;
    let networkAck: string | undefined;
    let passphrase: string | undefined;
    try {
      networkAck = await acknowledgeNetwork(opts, io, admin, log);
      if (printer) {
        if (pdf && !findChromium(io.env)) throw new OperationError('printing share sheets needs Chromium to render them, and none was found (install the chromium package, or set KEYRITE_CHROMIUM to its path)');
        // Before any key exists (SPEC §5): a queue that would keep or send the words is refused here.
        await printer.check((r) => ceremony.recordPrinterCheck(r));
        log(`printer '${printer.queue}' passed its checks`);
      }
      const pin = await readPin();
      ceremony.login(pin);
      if (plan.backup.passphrase) {
        passphrase = await readPassphrase!();
        // Typed: asked twice, since a typo would bind every share to a passphrase nobody knows.
        if (!opts.passphraseEnv && (await io.promptSecret('SLIP-39 passphrase again: ')) !== passphrase)
          throw new UsageError('the two passphrases differ; nothing was created, start again');
      }
      checkStop();
    } catch (err) {
      throw notBegun(err);
    }
    ceremony.begin();
    log(`bundle: ${ceremony.bundleDir}`);
    try {
      // The contract's record of an acknowledged live network: an exception at step "network".
      if (networkAck) ceremony.addNote(networkAck, admin, 'exception', 'network');
      if (!opts.ackAll && io.stdinIsTTY) await checkIns(ceremony, io, plan.participants);
      checkStop();
      for (const step of plan.steps) {
        while (!opts.ackAll) {
          const answer = (await io.prompt(`Step '${step.id}': ${step.text}\n  ${step.ackBy.join(', ')}: type "yes" to acknowledge, "stop" to stop the ceremony (or "note: TEXT" / "exception: TEXT" to record one): `)).trim();
          const noted = /^(note|exception):\s*(.+)$/i.exec(answer);
          if (noted) {
            ceremony.addNote(noted[2], admin, noted[1].toLowerCase() as 'note' | 'exception');
            continue;
          }
          const said = answer.toLowerCase();
          if (said === 'yes') break;
          // Only an explicit stop ends the ceremony: "y", a typo or an empty line asks again.
          if (said === 'stop') throw new OperationError(`step '${step.id}' was not acknowledged: "stop" typed at its prompt`);
          io.stderr(`  not acknowledged: type "yes" in full to acknowledge, or "stop" to stop the ceremony (recorded as aborted)\n`);
        }
        checkStop();
        ceremony.acknowledge(step.id, step.ackBy, opts.ackAll ? 'ack-all' : 'prompt');
      }
      checkStop();
      ceremony.generate();
      checkStop();
      const shares = ceremony.backup(passphrase);
      const sheets: string[] = [];
      // One custodian at a time: their sheet goes out, they confirm it, then the next sheet.
      for (const sh of shares) {
        checkStop();
        const sheet = await ceremony.shareSheet(sh.index);
        if (printer) {
          const job = await printer.print(sheet.html);
          sheets.push(`${printer.queue} job ${job.jobId}`);
          ceremony.markPrinted(sh.index, { kind: 'printer', queue: printer.queue, jobId: job.jobId, spoolClean: job.spoolClean });
        } else {
          const html = path.join(sharesOut!, `${sheet.fileBase}.html`);
          writeNewFile(html, sheet.html, 0o600);
          writeNewFile(path.join(sharesOut!, `${sheet.fileBase}.txt`), sheet.text, 0o600);
          sheets.push(html);
          ceremony.markPrinted(sh.index, { kind: 'file', file: path.relative(opts.outDir, html) || html });
        }
        checkStop();
        if (opts.confirmFrom !== undefined) {
          const f = path.join(opts.confirmFrom, `${bases[sh.index]}.txt`);
          let text: string;
          try {
            text = readFileSync(f, 'utf8');
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            throw new OperationError(`--confirm-from: ${f} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`} (share of ${sh.custodian})`);
          }
          ceremony.confirmShare(sh.index, text, 'file');
        } else {
          for (let attempt = 1; ; attempt++) {
            const words = await promptShareWords(io, `${sh.name} (group ${sh.group}, member ${sh.member})`);
            try {
              ceremony.confirmShare(sh.index, words, 'typed');
              break;
            } catch (err) {
              if (attempt >= 3) throw err;
              io.stderr(`keyrite: ${(err as Error).message}\n`);
            }
          }
        }
      }
      for (let attempt = 1; ; attempt++) {
        try {
          ceremony.testRecovery(passphrase);
          break;
        } catch (err) {
          // Only a mistyped passphrase leaves the ceremony open for another try (at a terminal).
          if (!(err instanceof KeyriteError && err.retryable) || opts.passphraseEnv || attempt >= 3) throw err;
          io.stderr(`keyrite: ${(err as Error).message}\n`);
          passphrase = await io.promptSecret('SLIP-39 passphrase: ');
        }
      }
      checkStop();
      ceremony.runExports();
      checkStop();
      const done = ceremony.finish();
      return { ...done, root: done.root, sheets };
    } catch (err) {
      ceremony.abort(err instanceof KeyriteError ? err.message : `unexpected failure: ${String((err as Error)?.message ?? err).split('\n')[0]}`, err);
      throw err;
    }
  } finally {
    stops?.dispose();
    ceremony.close();
    await pdf?.close();
  }
}
