import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { combineMnemonics, splitSecret } from '../../electron/core/shares/index.ts';

// The engine splits a Buffer from the token's RNG and then imports that same buffer into the token:
// splitting must not wipe or alter the caller's secret (Buffer.slice shares memory).
describe('splitSecret leaves its input alone', () => {
  it('keeps a Buffer secret intact and round-trips it', () => {
    const secret = randomBytes(32);
    const copy = Buffer.from(secret);
    const r = splitSecret(secret, { groupThreshold: 1, groups: [{ threshold: 3, count: 5 }], iterationExponent: 0 });
    expect(secret.equals(copy)).toBe(true);
    expect(Buffer.from(combineMnemonics(r.groups[0].mnemonics.slice(1, 4))).equals(copy)).toBe(true);
  });
});
