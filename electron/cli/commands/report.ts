import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CliIO, Command } from '../command.ts';
import { readAttestationData } from '../../core/ceremony/attestation-data.ts';
import { renderAttestation } from '../../core/sheets/attestation.ts';
import { OperationError, UsageError } from '../../core/errors.ts';
import { renderReport } from '../../core/sheets/report.ts';
import type { TranscriptEvent } from '../../core/transcript/events.ts';
import { requireBundleFolder } from '../../core/util/bundle-dir.ts';

function readJsonFile(file: string, name: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : 'not valid JSON';
    throw new UsageError(`report: ${name}: ${why}`);
  }
}

/** Reads transcript.jsonl as events; the report tolerates missing events, but not unreadable lines. */
function readEvents(file: string): TranscriptEvent[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`report: ${file}: cannot be read (${code})`);
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((line, i) => {
    try {
      const ev = JSON.parse(line);
      if (!ev || typeof ev !== 'object' || Array.isArray(ev)) throw new Error('not an object');
      return ev as TranscriptEvent;
    } catch {
      throw new UsageError(`report: ${file}: line ${i + 1} is not a JSON event`);
    }
  });
}

export const reportCommand: Command = {
  name: 'report',
  summary: "Re-render a bundle's ceremony report (report.html) from its transcript",
  help: `Usage: keyrite report BUNDLE [--out FILE] [--signatures]
       keyrite report BUNDLE --attestation [--out FILE] [--paper A4|Letter]

Renders the printable ceremony report from BUNDLE/transcript.jsonl alone (plan.json, when
readable, only adds plan steps that were never acknowledged). With the Keyrite version the bundle
records, the result is byte for byte the report.html the ceremony wrote, so an auditor can
compare the two.

Options:
  --out FILE       write the report to FILE (never overwrites an existing file);
                   without it the HTML goes to standard output when that is a pipe or a
                   file; on a terminal --out is required (exit 2)
  --signatures     also list the signers of BUNDLE/transcript.dsse.json (the output then
                   differs from the bundle's report.html; signatures are checked by 'keyrite verify')
  --attestation    instead of the report, the one-page attestation for wet signatures: the
                   statement digest in hex and as PGP words, the root key's fingerprint, the
                   envelope's signers and co-signers, and a signature line for every witness and
                   the administrator. BUNDLE may be a recovery folder (BUNDLE/recoveries/<time>).
                   It is never written into the bundle (whose files the statement fixes).
  --paper SIZE     A4 (default) or Letter (any letter case), for --attestation`,
  options: { out: { type: 'string' }, signatures: { type: 'boolean' }, attestation: { type: 'boolean' }, paper: { type: 'string' } },
  positionals: { min: 1, max: 1, names: 'BUNDLE' },
  async run(args, io) {
    const bundle = path.resolve(io.cwd, args.positionals[0]);
    requireBundleFolder(bundle, args.positionals[0]);
    // Paper names are taken in any letter case (a4, letter), as lp and CUPS take them.
    const given = args.values.paper;
    const paper = typeof given === 'string' ? ({ a4: 'A4', letter: 'Letter' } as const)[given.toLowerCase() as 'a4' | 'letter'] : undefined;
    if (given !== undefined && (!args.values.attestation || paper === undefined))
      throw new UsageError(args.values.attestation ? `report: --paper must be A4 or Letter, not '${String(given)}'` : 'report: --paper goes with --attestation');
    if (args.values.attestation && args.values.signatures) throw new UsageError('report: --signatures and --attestation exclude each other (the attestation lists the signers)');
    if (args.values.attestation) return writeOut(io, renderAttestation(readAttestationData(bundle, { paper })), args.values.out, 'attestation');
    const events = readEvents(path.join(bundle, 'transcript.jsonl'));
    let plan: unknown;
    const planFile = path.join(bundle, 'plan.json');
    if (existsSync(planFile)) {
      try {
        plan = JSON.parse(readFileSync(planFile, 'utf8'));
      } catch {
        io.stderr(`keyrite: warning: ${planFile} is not valid JSON; the report uses the transcript alone\n`);
      }
    }
    const envelope = args.values.signatures
      ? readJsonFile(path.join(bundle, 'transcript.dsse.json'), path.join(bundle, 'transcript.dsse.json'))
      : undefined;
    return writeOut(io, renderReport(events, { plan, envelope }), args.values.out, 'report');
  },
};

/** To standard output, or to a new file (never overwriting one). */
function writeOut(io: CliIO, html: string, outArg: unknown, what: string): number {
  const out = typeof outArg === 'string' ? outArg : undefined;
  if (out === undefined) {
    // HTML scrolling past on a terminal helps nobody: there, --out is required; a pipe or a
    // redirect (keyrite report B > report.html) still gets the HTML.
    if (io.stdoutIsTTY) throw new UsageError(`report: give --out FILE to write the ${what} (or redirect its output to a file); standard output is a terminal`);
    io.stdout(html);
    return 0;
  }
  const target = path.resolve(io.cwd, out);
  try {
    writeFileSync(target, html, { flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new UsageError(`report: ${out} already exists; not overwriting it`);
    throw new OperationError(`report: cannot write ${out} (${code ?? (err as Error).message})`);
  }
  io.stdout(`${what} written to ${out}\n`);
  return 0;
}
