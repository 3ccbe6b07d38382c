/**
 * The hash chain's primitives (docs/transcript.md): an event's line is its RFC 8785 (JCS) form, and its hash is
 * the lowercase hex SHA-256 of that line without the trailing newline.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** JCS form of any JSON value; throws on values JCS cannot represent (NaN, lone surrogates, undefined root). */
export function canonicalJson(value: unknown): string {
  const out = canonicalize(value);
  if (out === undefined) throw new Error('value has no JSON form');
  return out;
}

/** Whether every object in a parsed JSON value has its keys in JCS order (UTF-16 code units). */
function keysInJcsOrder(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return true;
  if (Array.isArray(v)) return v.every(keysInJcsOrder);
  const keys = Object.keys(v);
  for (let i = 1; i < keys.length; i++) if (!(keys[i - 1] < keys[i])) return false;
  return keys.every((k) => keysInJcsOrder((v as Record<string, unknown>)[k]));
}

/**
 * Whether `text` is exactly the JCS form of `value` (its JSON.parse result). JCS serialises
 * numbers and strings as JSON.stringify does and sorts keys by UTF-16 code units, so when
 * JSON.stringify reproduces the text and every object's keys are already sorted, the text is
 * canonical — without building a second copy. Anything else (integer-like keys, which V8 reorders)
 * takes the full comparison with the canonicalize package.
 */
export function isCanonicalText(value: unknown, text: string): boolean {
  // A \uD800-\uDFFF escape may be a lone surrogate, which JCS refuses: leave it to canonicalize.
  if (!/\\u[dD][89a-fA-F]/.test(text) && JSON.stringify(value) === text && keysInJcsOrder(value)) return true;
  return canonicalJson(value) === text;
}

/** Lowercase hex SHA-256 of a line (without its newline) or of any bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hash of an event line as the chain uses it. */
export const lineHash = sha256Hex;

/** UTC RFC 3339 with exactly three fraction digits, e.g. 2026-11-22T14:07:15.123Z. */
export const TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The decimal number in time[a, b), from its digits (the pattern has already checked they are digits). */
function digits(time: string, a: number, b: number): number {
  let n = 0;
  for (let i = a; i < b; i++) n = n * 10 + (time.charCodeAt(i) - 48);
  return n;
}

/** Whether `time` has the transcript's format and names a real instant (no 2026-02-30). */
export function isTranscriptTime(time: unknown): time is string {
  if (typeof time !== 'string' || !TIME_PATTERN.test(time)) return false;
  // Field ranges by hand: Date.parse would roll 02-30 over to 03-02. No leap seconds, as in toISOString.
  const y = digits(time, 0, 4);
  const mo = digits(time, 5, 7);
  const d = digits(time, 8, 10);
  if (mo < 1 || mo > 12) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = mo === 2 && leap ? 29 : DAYS_IN_MONTH[mo - 1];
  return d >= 1 && d <= days && digits(time, 11, 13) < 24 && digits(time, 14, 16) < 60 && digits(time, 17, 19) < 60;
}

export const HEX64 = /^[0-9a-f]{64}$/;

/** prev of the first event. */
export const GENESIS_PREV_HASH = '0'.repeat(64);
