/**
 * The wrapped root key printed as QR codes (docs/sheets.md, "KRW1"). Each chunk is
 *   KRW1:<index>/<count>:<digest>:<base32 data>
 * where <digest> is the first 8 hex digits (uppercase) of SHA-256 of the whole wrapped key and the
 * data is RFC 4648 base32 without "=" padding. Every character is in QR's alphanumeric set, which
 * packs 5.5 bits per character (base64 would need byte mode: 8 bits per 6-bit character).
 */
import { createHash } from 'node:crypto';
import { OperationError } from '../errors.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/**
 * At most 1,300 base32 characters per chunk (about 1,320 with the prefix): a version-21/22 QR (101–105
 * modules) at error correction L, so an RSA-4096 key (about 3,815 characters) takes 3 codes that fit
 * one row of a page at about 60 mm each (0.55 mm a module, over 3 pixels a module in a 150 dpi scan).
 * Five denser codes at 0.4 mm a module did not all scan from a 150 dpi office scan. L rather than M
 * because every custodian's sheet carries the same codes (and the bundle the same file), so a
 * damaged code is replaced from another sheet, while larger modules are what makes a printed code
 * scan reliably.
 */
export const MAX_CHUNK_DATA = 1300;
export const WRAPPED_QR_ECC = 'L' as const;

export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

export function base32Decode(text: string, where = 'base32'): Buffer {
  const clean = text.toUpperCase().replace(/[\s=]/g, '');
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (let i = 0; i < clean.length; i++) {
    const v = ALPHABET.indexOf(clean[i]);
    if (v < 0) throw new OperationError(`${where}: character ${i + 1} ('${clean[i]}') is not base32`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    value &= (1 << bits) - 1;
  }
  return Buffer.from(out);
}

function digest8(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 8).toUpperCase();
}

/** Splits the wrapped key into KRW1 chunks of near-equal length, in order. */
export function encodeWrappedChunks(wrapped: Uint8Array): string[] {
  const data = base32Encode(wrapped);
  const count = Math.max(1, Math.ceil(data.length / MAX_CHUNK_DATA));
  const size = Math.ceil(data.length / count);
  const dig = digest8(wrapped);
  const chunks: string[] = [];
  for (let i = 0; i < count; i++) chunks.push(`KRW1:${i + 1}/${count}:${dig}:${data.slice(i * size, (i + 1) * size)}`);
  return chunks;
}

const CHUNK = /^KRW1:(\d+)\/(\d+):([0-9A-F]{8}):([A-Z2-7]*)$/;

/** Reassembles KRW1 chunks given in any order (as scanned); checks count, set and digest. */
export function decodeWrappedChunks(chunks: string[]): Buffer {
  if (chunks.length === 0) throw new OperationError('wrapped key: no KRW1 chunks given');
  const parts = new Map<number, string>();
  let count = 0;
  let dig = '';
  for (const [i, raw] of chunks.entries()) {
    const m = CHUNK.exec(raw.trim().toUpperCase());
    if (!m) throw new OperationError(`wrapped key: chunk ${i + 1} is not in KRW1 format`);
    const [index, n] = [Number(m[1]), Number(m[2])];
    if (i === 0) { count = n; dig = m[3]; }
    if (n !== count || m[3] !== dig) throw new OperationError(`wrapped key: chunk ${index}/${n} belongs to a different key than chunk 1`);
    if (index < 1 || index > n) throw new OperationError(`wrapped key: chunk ${index}/${n} has an index out of range`);
    if (parts.has(index)) throw new OperationError(`wrapped key: chunk ${index}/${n} given twice`);
    parts.set(index, m[4]);
  }
  for (let i = 1; i <= count; i++) if (!parts.has(i)) throw new OperationError(`wrapped key: chunk ${i}/${count} is missing`);
  const bytes = base32Decode([...Array(count)].map((_, i) => parts.get(i + 1)).join(''), 'wrapped key');
  if (digest8(bytes) !== dig) throw new OperationError(`wrapped key: reassembled bytes do not match digest ${dig}`);
  return bytes;
}
