/**
 * The hash chain (docs/transcript.md, transcript.jsonl): is each line canonical, chained, numbered and timed
 * in order; and does the signed statement name this chain's head and length.
 */
import { TRANSCRIPT_FILE } from '../transcript/dsse.ts';
import { readTranscript } from '../transcript/read.ts';
import { fail, firstOf, short, type Checklist } from './checklist.ts';
import type { FolderContext } from './context.ts';
import { NO_LINKS, notAFile, readInside, relName } from './folder.ts';

/** Reads the folder's transcript into ctx and runs the four chain checks. */
export function checkTranscript(ctx: FolderContext, list: Checklist): void {
  const where = relName(ctx, TRANSCRIPT_FILE);
  const bytes = readInside(ctx.dir, TRANSCRIPT_FILE);
  const why = bytes === undefined ? notAFile(ctx, ctx.dir, TRANSCRIPT_FILE) : '';
  if (bytes !== undefined) {
    ctx.transcript = readTranscript(bytes);
    ctx.events = ctx.transcript.events;
  }
  const t = ctx.transcript;
  const of = (kind: string): string[] => (t ? t.problems.filter((p) => p.kind === kind).map((p) => `${where} ${p.detail}`) : []);
  const none = (): void => {
    if (!t || t.lines.length === 0) fail('no transcript to check');
  };

  /** transcript.canonical: the file is there, and every line is UTF-8, newline-ended, its own JCS form, and a v1 event. */
  list.run('transcript.canonical', () => {
    if (!t) fail(why.endsWith(NO_LINKS) ? why : `${where} is missing or unreadable`);
    if (t!.lines.length === 0) fail(`${where} is empty`);
    const p = of('canonical');
    if (p.length) fail(firstOf(p));
    return `${t!.lines.length} lines, each exactly the JCS form of a v1 event`;
  });
  /** transcript.chain: every prev is the hash of the line before (64 zeros first), so no line was changed, added or removed in between. */
  list.run('transcript.chain', () => {
    none();
    const p = of('chain');
    if (p.length) fail(firstOf(p));
    return `every prev is the hash of the line before; head ${short(t!.head)}`;
  });
  /** transcript.seq: seq is 0..n-1 with no gaps. */
  list.run('transcript.seq', () => {
    none();
    const p = of('seq');
    if (p.length) fail(firstOf(p));
    return `seq runs 0..${t!.lines.length - 1} with no gaps`;
  });
  /** transcript.time: UTC RFC 3339 times with milliseconds that never go back. */
  list.run('transcript.time', () => {
    none();
    const p = of('time');
    if (p.length) fail(firstOf(p));
    const ev = t!.events;
    return ev.length ? `UTC RFC 3339 times from ${ev[0].time} to ${ev[ev.length - 1].time}, never decreasing` : 'no times';
  });
}

/** statement.chain: the signed predicate's chainHead and eventCount are this transcript's, so the signature covers every line. */
export function checkStatementChain(ctx: FolderContext, list: Checklist, unsigned: string): void {
  list.run('statement.chain', () => {
    if (!ctx.statement) fail(ctx.envelopeExists ? 'no statement to check' : unsigned);
    if (!ctx.transcript) fail('no transcript to compare with');
    const p = ctx.statement!.predicate;
    if (p.chainHead !== ctx.transcript!.head) fail(`predicate chainHead ${short(p.chainHead)} is not the transcript head ${short(ctx.transcript!.head)}`);
    if (p.eventCount !== ctx.transcript!.lines.length) fail(`predicate eventCount ${p.eventCount} but the transcript has ${ctx.transcript!.lines.length} lines`);
    return `chainHead ${short(p.chainHead)} and eventCount ${p.eventCount} match the transcript`;
  });
}
