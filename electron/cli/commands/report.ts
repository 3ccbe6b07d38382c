import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from '../command.ts';
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

Renders the printable ceremony report from BUNDLE/transcript.jsonl alone (plan.json, when
readable, only adds plan steps that were never acknowledged). The result is the same, byte for
byte, as the report.html the ceremony wrote, so an auditor can compare the two.

Options:
  --out FILE       write the report to FILE (never overwrites an existing file);
                   without it the HTML goes to standard output when that is a pipe or a
                   file; on a terminal --out is required (exit 2)
  --signatures     also list the signers of BUNDLE/transcript.dsse.json (the output then
                   differs from the bundle's report.html; signatures are checked by 'keyrite verify')`,
  options: { out: { type: 'string' }, signatures: { type: 'boolean' } },
  positionals: { min: 1, max: 1, names: 'BUNDLE' },
  async run(args, io) {
    const bundle = path.resolve(io.cwd, args.positionals[0]);
    requireBundleFolder(bundle, args.positionals[0]);
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
    const html = renderReport(events, { plan, envelope });
    const out = typeof args.values.out === 'string' ? args.values.out : undefined;
    if (out === undefined) {
      // HTML scrolling past on a terminal helps nobody: there, --out is required; a pipe or a
      // redirect (keyrite report B > report.html) still gets the HTML.
      if (io.stdoutIsTTY) throw new UsageError(`report: give --out FILE to write the report (or redirect: keyrite report ${args.positionals[0]} > report.html); standard output is a terminal`);
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
    io.stdout(`report written to ${out}\n`);
    return 0;
  },
};
