/**
 * Reads transcript.jsonl and checks it line by line, byte for byte (docs/transcript.md): every line is exactly
 * its JCS form, chains to the one before, and has seq 0..n-1 and non-decreasing RFC 3339 times.
 * Never throws on bad content: every defect becomes a problem naming its line.
 */
import { readFileSync } from 'node:fs';
import { isCanonicalText, GENESIS_PREV_HASH, HEX64, isTranscriptTime, lineHash } from './chain.ts';
import type { TranscriptEvent } from './events.ts';

export type TranscriptProblemKind = 'canonical' | 'chain' | 'seq' | 'time';

export interface TranscriptProblem {
  /** 1-based line number in the file (0 for the file as a whole). */
  line: number;
  kind: TranscriptProblemKind;
  detail: string;
}

export interface TranscriptReadResult {
  /** Events of the lines that parsed and have the required shape, in file order. */
  events: TranscriptEvent[];
  /** Every line as read, without its newline (a final unterminated line included). */
  lines: string[];
  /** hashes[i] = hash of lines[i]. */
  hashes: string[];
  /** Hash of the last line, or 64 zeros for an empty transcript. */
  head: string;
  problems: TranscriptProblem[];
}

const EVENT_KEYS = ['actor', 'data', 'prev', 'seq', 'time', 'type', 'v'];

/**
 * Reads a transcript from its bytes, its text, or a file path. A string counts as text when it is
 * empty or starts with "{"; anything else is read as a path.
 */
export function readTranscript(source: string | Uint8Array): TranscriptReadResult {
  let bytes: Buffer;
  if (typeof source === 'string') {
    bytes = source === '' || source.startsWith('{') ? Buffer.from(source, 'utf8') : readFileSync(source);
  } else {
    bytes = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  }
  return parseTranscript(bytes);
}

function parseTranscript(bytes: Buffer): TranscriptReadResult {
  const problems: TranscriptProblem[] = [];
  const events: TranscriptEvent[] = [];
  const lines: string[] = [];
  const hashes: string[] = [];
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  let start = 0;
  let prevHash = GENESIS_PREV_HASH;
  let lastTime: string | undefined;
  let lineNo = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    const terminated = end !== -1;
    if (!terminated) end = bytes.length;
    const raw = bytes.subarray(start, end);
    start = end + 1;
    lineNo++;
    const hash = lineHash(raw);
    let text: string;
    try {
      text = decoder.decode(raw);
    } catch {
      text = raw.toString('utf8');
      problems.push({ line: lineNo, kind: 'canonical', detail: `line ${lineNo} is not valid UTF-8` });
      lines.push(text);
      hashes.push(hash);
      prevHash = hash;
      continue;
    }
    lines.push(text);
    hashes.push(hash);
    if (!terminated) problems.push({ line: lineNo, kind: 'canonical', detail: `line ${lineNo} does not end with a newline` });
    const event = checkLine(text, lineNo, problems);
    if (event) {
      if (event.prev !== prevHash) {
        problems.push({
          line: lineNo,
          kind: 'chain',
          detail: lineNo === 1 ? 'line 1: prev is not 64 zeros' : `line ${lineNo}: prev does not match the hash of line ${lineNo - 1}`,
        });
      }
      if (event.seq !== lineNo - 1) {
        problems.push({ line: lineNo, kind: 'seq', detail: `line ${lineNo}: seq is ${event.seq}, expected ${lineNo - 1}` });
      }
      if (lastTime !== undefined && event.time < lastTime) {
        problems.push({ line: lineNo, kind: 'time', detail: `line ${lineNo}: time ${event.time} is before ${lastTime}` });
      }
      lastTime = event.time;
      events.push(event);
    }
    prevHash = hash;
  }
  return { events, lines, hashes, head: prevHash, problems };
}

/** Records a 'canonical' problem for a line; returns undefined so callers can `return bad(...)`. */
function bad(problems: TranscriptProblem[], lineNo: number, detail: string): undefined {
  problems.push({ line: lineNo, kind: 'canonical', detail: `line ${lineNo}: ${detail}` });
  return undefined;
}

const EVENT_TYPE = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;

/**
 * Parses one line and checks that it is canonical and has the event shape; records problems.
 * This runs once per event of transcripts of any length, so it allocates as little as it can.
 */
function checkLine(text: string, lineNo: number, problems: TranscriptProblem[]): TranscriptEvent | undefined {
  if (text === '') return bad(problems, lineNo, 'is empty');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return bad(problems, lineNo, 'is not JSON');
  }
  let canonical: boolean;
  try {
    canonical = isCanonicalText(value, text);
  } catch {
    return bad(problems, lineNo, 'has a value that JCS cannot represent');
  }
  if (!canonical) return bad(problems, lineNo, 'is not in JCS canonical form');
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return bad(problems, lineNo, 'is not a JSON object');
  const e = value as Record<string, unknown>;
  let count = 0;
  for (const k in e) {
    count++;
    if (!EVENT_KEYS.includes(k)) return bad(problems, lineNo, `unknown field ${Object.keys(e).filter((x) => !EVENT_KEYS.includes(x)).join(', ')}`);
  }
  if (count !== EVENT_KEYS.length) return bad(problems, lineNo, `missing ${EVENT_KEYS.filter((k) => !(k in e)).join(', ')}`);
  if (e.v !== 1) return bad(problems, lineNo, `v is ${JSON.stringify(e.v)}, expected 1`);
  if (!Number.isSafeInteger(e.seq) || (e.seq as number) < 0) return bad(problems, lineNo, 'seq is not a non-negative integer');
  if (!isTranscriptTime(e.time)) {
    problems.push({ line: lineNo, kind: 'time', detail: `line ${lineNo}: time is not UTC RFC 3339 with milliseconds` });
    return undefined;
  }
  if (typeof e.type !== 'string' || !EVENT_TYPE.test(e.type)) return bad(problems, lineNo, 'type is not an event type name');
  if (typeof e.actor !== 'string' || e.actor === '') return bad(problems, lineNo, 'actor is not a non-empty string');
  if (e.data === null || typeof e.data !== 'object' || Array.isArray(e.data)) return bad(problems, lineNo, 'data is not an object');
  if (typeof e.prev !== 'string' || !HEX64.test(e.prev)) return bad(problems, lineNo, 'prev is not 64 lowercase hex digits');
  return e as unknown as TranscriptEvent;
}
