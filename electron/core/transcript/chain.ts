/**
 * The hash chain's primitives (SPEC §3): an event's line is its RFC 8785 (JCS) form, and its hash is
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

/** Lowercase hex SHA-256 of a line (without its newline) or of any bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hash of an event line as the chain uses it. */
export const lineHash = sha256Hex;

/** UTC RFC 3339 with exactly three fraction digits, e.g. 2026-11-22T14:07:15.123Z. */
export const TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Whether `time` has the transcript's format and names a real instant (no 2026-02-30). */
export function isTranscriptTime(time: unknown): time is string {
  if (typeof time !== 'string' || !TIME_PATTERN.test(time)) return false;
  // Field ranges by hand: Date.parse would roll 02-30 over to 03-02. No leap seconds, as in toISOString.
  const num = (a: number, b: number) => Number(time.slice(a, b));
  const y = num(0, 4);
  const mo = num(5, 7);
  const d = num(8, 10);
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
  return days !== undefined && d >= 1 && d <= days && num(11, 13) < 24 && num(14, 16) < 60 && num(17, 19) < 60;
}

export const HEX64 = /^[0-9a-f]{64}$/;

/** prev of the first event. */
export const GENESIS_PREV_HASH = '0'.repeat(64);
