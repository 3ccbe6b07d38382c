/** The KRW1 wrapped-key chunk format printed on share sheets (docs/sheets.md). */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { base32Decode, base32Encode, decodeWrappedChunks, encodeWrappedChunks } from '../../electron/core/sheets/wrapped-chunks.ts';
import { OperationError } from '../../electron/core/errors.ts';

describe('KRW1 wrapped-key chunks', () => {
  it('uses RFC 4648 base32 without padding', () => {
    const vectors: [string, string][] = [['', ''], ['f', 'MY'], ['fo', 'MZXQ'], ['foo', 'MZXW6'], ['foob', 'MZXW6YQ'], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI']];
    for (const [plain, enc] of vectors) {
      expect(base32Encode(Buffer.from(plain))).toBe(enc);
      expect(base32Decode(enc).toString()).toBe(plain);
    }
  });

  it('round-trips any wrapped key, in any scan order, in QR alphanumeric characters only', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 2600 }), fc.nat(), (bytes, seed) => {
      const chunks = encodeWrappedChunks(bytes);
      for (const c of chunks) {
        expect(c).toMatch(/^[0-9A-Z $%*+\-./:]+$/);
        expect(c.length).toBeLessThanOrEqual(1320);
      }
      const shuffled = [...chunks].sort((a, b) => ((a.length * 31 + seed) % 7) - ((b.length * 17 + seed) % 5));
      expect(Buffer.from(decodeWrappedChunks(shuffled)).equals(Buffer.from(bytes))).toBe(true);
    }), { numRuns: 60 });
  });

  it('fits an RSA-4096 wrapped key (2,384 bytes) in three codes', () => {
    expect(encodeWrappedChunks(new Uint8Array(2384).fill(7))).toHaveLength(3);
    expect(encodeWrappedChunks(new Uint8Array(200))).toHaveLength(1);
  });

  it('says which chunk is missing, doubled, foreign or damaged', () => {
    const a = encodeWrappedChunks(new Uint8Array(3000).fill(1));
    const b = encodeWrappedChunks(new Uint8Array(3000).fill(2));
    expect(() => decodeWrappedChunks(a.slice(1))).toThrow(/chunk 1\/4 is missing/);
    expect(() => decodeWrappedChunks([...a, a[2]])).toThrow(/chunk 3\/4 given twice/);
    expect(() => decodeWrappedChunks([a[0], b[1], a[2], a[3]])).toThrow(/chunk 2\/4 belongs to a different key/);
    const damaged = a[3].slice(0, -2) + (a[3].endsWith('AA') ? 'BB' : 'AA');
    expect(() => decodeWrappedChunks([a[0], a[1], a[2], damaged])).toThrow(OperationError);
    expect(() => decodeWrappedChunks(['hello'])).toThrow(/chunk 1 is not in KRW1 format/);
  });
});
