/**
 * A re-share plan run from the terminal (`ceremony run`, or its alias `ceremony reshare`;
 * docs/lifecycle.md). Production: the PIN and the token first, then the current custodians type their
 * shares at no-echo word prompts, and the printer is checked, all before any bundle or new key
 * exists; then the new sheets are printed one custodian at a time (print → confirm by re-entry →
 * next), the new shares are test-recovered, and each holder of an old share acknowledges destroying
 * their old sheet. Rehearsals may read the old shares from a file (--shares) and write the new sheets
 * as files (--shares-out). Signals become a recorded stop, as in `ceremony run`.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { OperationError, UsageError } from '../core/errors.ts';
import { ReshareCeremony } from '../core/lifecycle/reshare.ts';
import { statementDigest } from '../core/lifecycle/facts.ts';
import { chromiumPdfRenderer, CupsSheetPrinter, findChromium } from '../core/printing/index.ts';
import { ShareCollector, Slip39Error } from '../core/shares/index.ts';
import type { NetworkInterfaceRecord } from '../core/transcript/events.ts';
import { secretSource, type CliIO } from './command.ts';
import { acknowledgeNetwork, checkIns } from './ceremony-prompts.ts';
import { checkRunMode } from './ceremony-runner.ts';
import { mnemonicLines } from './commands/shares.ts';
import { promptShareWords } from './word-prompt.ts';

export interface ReshareRunOptions {
  planFile: string;
  outDir: string;
  rehearsal: boolean;
  printer?: string;
  /** Rehearsals only: the current custodians' shares from a file (one mnemonic per line). */
  sharesFile?: string;
  /** Rehearsals only: the new sheets as files (they hold the words). */
  sharesOut?: string;
  /** Rehearsals only: confirmations read from DIR/share-*.txt. */
  confirmFrom?: string;
  ackAll: boolean;
  ackNetwork?: boolean;
  pinEnv?: string;
  passphraseEnv?: string;
  moduleArgs?: string;
  /** Renders a sheet's HTML to PDF in memory; default: headless Chromium (core/printing). */
  renderPdf?: (html: string) => Promise<Buffer>;
  networkInterfaces?: () => NetworkInterfaceRecord[];
}

export interface ReshareRunResult {
  bundleDir: string;
  statementSha256: string;
  /** Where each new sheet went: "QUEUE job N", or the rehearsal file. */
  sheets: string[];
  retired: string;
}

/** The same flag rules as a generate run, plus --shares (rehearsals only). */
export function checkReshareMode(o: ReshareRunOptions): void {
  if (o.sharesFile !== undefined && !o.rehearsal)
    throw new UsageError("ceremony run: --shares is for rehearsals only; add --rehearsal, or let the current custodians type their shares at the prompt");
  checkRunMode(o);
}

async function yes(io: CliIO, question: string, what: string): Promise<void> {
  for (;;) {
    const said = (await io.prompt(`${question}\n  type "yes" to acknowledge, "stop" to stop the ceremony: `)).trim().toLowerCase();
    if (said === 'yes') return;
    if (said === 'stop') throw new OperationError(`${what} was not acknowledged: "stop" typed at its prompt`);
    io.stderr('  not acknowledged: type "yes" in full, or "stop"\n');
  }
}

/** The current custodians' shares, typed one at a time; each is checked at once against the retired set. */
async function typedOldShares(c: ReshareCeremony, io: CliIO): Promise<string[]> {
  const split = c.loaded.source.split;
  const collector = new ShareCollector({ identifier: split.identifier, allowedCheckValues: new Set(split.shares.map((s) => s.checkValue)) });
  const used: string[] = [];
  try {
    for (let position = 1; !collector.complete; ) {
      const words = await promptShareWords(io, `Current share ${position} (${collector.count ? collector.needs() : 'of the set being retired'})`);
      try {
        const r = collector.add(words, position);
        if (r.used) used.push(words);
        const who = split.shares.find((s) => s.checkValue === r.accepted.checkValue)?.custodian;
        io.stdout(`current share ${position}: accepted — group ${r.accepted.group}, member ${r.accepted.member}${who ? ` (custodian ${who})` : ''}; ${r.complete ? 'enough shares' : `still needed: ${r.needs}`}\n`);
        position++;
      } catch (err) {
        if (!(err instanceof Slip39Error)) throw err;
        io.stderr(`keyrite: ${err.message}; try again\n`);
      }
    }
  } finally {
    collector.wipe();
  }
  return used;
}

export async function runReshare(o: ReshareRunOptions, io: CliIO): Promise<ReshareRunResult> {
  checkReshareMode(o);
  const cmd = 'ceremony run';
  const c = ReshareCeremony.load(o.planFile, { outDir: o.outDir, rehearsal: o.rehearsal, moduleArgs: o.moduleArgs });
  const plan = c.loaded.plan;
  const src = c.loaded.source;
  // Every input the run will need, settled before the token is opened.
  let oldText: string | undefined;
  if (o.sharesFile !== undefined) {
    try {
      oldText = readFileSync(o.sharesFile, 'utf8');
    } catch {
      throw new UsageError(`${cmd}: --shares ${o.sharesFile} cannot be read`);
    }
  } else if (!io.stdinIsTTY) throw new UsageError(`${cmd}: the current custodians type their shares at a terminal prompt; without a terminal, give --rehearsal --shares FILE`);
  if (o.confirmFrom === undefined && !io.stdinIsTTY) throw new UsageError(`${cmd}: custodians confirm their new shares at a terminal prompt; without a terminal, give --confirm-from DIR (rehearsals)`);
  if (o.confirmFrom !== undefined && o.confirmFrom !== o.sharesOut && !(existsSync(o.confirmFrom) && statSync(o.confirmFrom).isDirectory())) throw new UsageError(`--confirm-from ${o.confirmFrom}: no such folder`);
  if (!o.ackAll && !io.stdinIsTTY) throw new UsageError(`${cmd}: steps and the old sheets' destruction are acknowledged at a terminal prompt; without a terminal, give --ack-all (rehearsals)`);
  const readPin = secretSource(io, cmd, 'pin-env', o.pinEnv, `PIN for token '${plan.hsm.tokenLabel ?? plan.hsm.tokenSerial}'`);
  const readPassphrase = src.split.passphrase ? secretSource(io, cmd, 'passphrase-env', o.passphraseEnv, 'SLIP-39 passphrase of the current shares') : undefined;
  const pdf = o.printer !== undefined && !o.renderPdf ? chromiumPdfRenderer(io.env) : undefined;
  const printer = o.printer !== undefined ? new CupsSheetPrinter(o.printer, o.renderPdf ?? ((html) => pdf!.render(html)), { env: io.env }) : undefined;
  const admin = plan.participants.find((p) => p.role === 'administrator')!.id;
  const stops = io.watchStops?.();
  const checkStop = () => stops?.check();
  const sheets: string[] = [];
  let begun = false;
  try {
    let networkAck: string | undefined;
    try {
      networkAck = await acknowledgeNetwork(o, io, admin, (l) => io.stdout(`${l}\n`));
      if (printer) {
        if (pdf && !findChromium(io.env)) throw new OperationError('printing share sheets needs Chromium to render them, and none was found (install the chromium package, or set KEYRITE_CHROMIUM to its path)');
        // Before the new backup key exists: a queue that would keep or send the words is refused here.
        await printer.check((r) => c.recordPrinterCheck(r));
        io.stdout(`printer '${printer.queue}' passed its checks\n`);
      }
      // The PIN and the token first, so that a wrong PIN costs no custodian their typing.
      const token = c.open(await readPin());
      io.stdout(`Token '${token.label}' serial ${token.serialNumber}: logged in. Re-sharing version ${src.version} (${src.key.label}); current set ${src.split.identifier} from ${src.backupBundle.ceremonyId}\n`);
      checkStop();
      const old = oldText !== undefined ? mnemonicLines(oldText) : await typedOldShares(c, io);
      // Before any bundle exists: the old shares must open the old backup key (its KCV).
      c.enterOldShares(old, readPassphrase ? await readPassphrase() : undefined);
      old.fill('');
      io.stdout(`Old backup key: KCV ${src.split.kekKcv} matches ${src.backupBundle.ceremonyId}'s\n`);
      checkStop();
    } catch (err) {
      try {
        checkStop();
      } catch (stop) {
        if (stop === err) throw new OperationError(`${(err as Error).message} before the ceremony began; no bundle was created, so there is nothing to record it in`);
      }
      throw err;
    }
    const typedCheckIns = !o.ackAll && io.stdinIsTTY;
    c.begin(!typedCheckIns);
    begun = true;
    io.stdout(`bundle: ${c.bundleDir}\n`);
    if (networkAck) c.addNote(networkAck, admin, 'exception', 'network');
    if (typedCheckIns) await checkIns(c, io, plan.participants);
    for (const s of plan.steps) {
      checkStop();
      while (!o.ackAll) {
        // The same prompt as a generate run's steps: a note or an exception may be recorded first.
        const answer = (await io.prompt(`Step '${s.id}': ${s.text}\n  ${s.ackBy.join(', ')}: type "yes" to acknowledge, "stop" to stop the ceremony (or "note: TEXT" / "exception: TEXT" to record one): `)).trim();
        const noted = /^(note|exception):\s*(.+)$/i.exec(answer);
        if (noted) c.addNote(noted[2], admin, noted[1].toLowerCase() as 'note' | 'exception');
        else if (answer.toLowerCase() === 'yes') break;
        else if (answer.toLowerCase() === 'stop') throw new OperationError(`step '${s.id}' was not acknowledged: "stop" typed at its prompt`);
        else io.stderr('  not acknowledged: type "yes" in full to acknowledge, or "stop" to stop the ceremony (recorded as aborted)\n');
      }
      c.acknowledge(s.id, o.ackAll ? 'ack-all' : 'prompt');
    }
    checkStop();
    c.rewrap();
    if (o.sharesOut !== undefined) mkdirSync(o.sharesOut, { recursive: true });
    // One custodian at a time: their sheet goes out, they confirm it, then the next sheet.
    for (const sh of c.newShares) {
      checkStop();
      let file: string | undefined;
      if (printer) {
        const job = await printer.print(await c.shareSheet(sh.index));
        c.markPrinted(sh.index, { queue: printer.queue, jobId: job.jobId, spoolClean: job.spoolClean });
        sheets.push(`${printer.queue} job ${job.jobId}`);
      } else {
        file = c.writeSheet(sh.index, o.sharesOut!);
        sheets.push(file.replace(/\.txt$/, '.html'));
      }
      checkStop();
      if (o.confirmFrom !== undefined) {
        const f = path.join(o.confirmFrom, path.basename(file ?? ''));
        c.confirmShare(sh.index, readFileSync(f, 'utf8'), 'file');
        continue;
      }
      const name = plan.participants.find((p) => p.id === sh.custodian)!.name;
      for (let attempt = 1; ; attempt++) {
        const words = await promptShareWords(io, `${name} (group ${sh.group}, member ${sh.member}), your new share`);
        try {
          c.confirmShare(sh.index, words, 'typed');
          break;
        } catch (err) {
          if (attempt >= 3) throw err;
          io.stderr(`keyrite: ${(err as Error).message}\n`);
        }
      }
    }
    checkStop();
    c.testRecovery();
    // What re-sharing cannot do: the old shares still open every copy of the old root.wrapped.
    for (const custodian of c.oldCustodians) {
      checkStop();
      if (!o.ackAll) {
        const held = src.split.shares.filter((x) => x.custodian === custodian).map((x) => `group ${x.group}, member ${x.member}, check ${x.checkValue}`);
        await yes(io, `${custodian}: I destroyed my old sheet (${held.join('; ')}) of set ${src.split.identifier}; it still opens every copy of ${src.backupBundle.ceremonyId}'s backup/root.wrapped`, `the destruction of ${custodian}'s old sheet`);
      }
      c.oldSheetDestroyed(custodian, o.ackAll ? 'ack-all' : 'prompt');
    }
    checkStop();
    const r = c.finish();
    return {
      bundleDir: r.bundleDir,
      statementSha256: statementDigest(r.bundleDir)!,
      sheets,
      retired: `${src.backupBundle.ceremonyId}'s backup/root.wrapped (the old shares still open every copy of it: destroy them and the old sheets)`,
    };
  } catch (err) {
    if (begun) c.abort(err instanceof Error ? err.message.split('\n')[0] : String(err));
    throw err;
  } finally {
    stops?.dispose();
    c.close();
    await pdf?.close();
  }
}
