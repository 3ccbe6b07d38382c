/** Property: any split round-trips from any threshold subset (plus extras) and fails below threshold. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { combineMnemonics, Slip39Error, splitSecret } from '../../electron/core/shares/index.ts';

const groupArb = fc.integer({ min: 1, max: 5 }).chain((count) =>
  fc.integer({ min: count === 1 ? 1 : 2, max: count }).map((threshold) => ({ threshold, count })),
);
const layoutArb = fc
  .array(groupArb, { minLength: 1, maxLength: 4 })
  .chain((groups) => fc.integer({ min: 1, max: groups.length }).map((groupThreshold) => ({ groups, groupThreshold })));
const caseArb = fc.record({
  secret: fc.constantFrom(16, 32).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
  layout: layoutArb,
  passphrase: fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 12 }),
  extendable: fc.boolean(),
  iterationExponent: fc.constantFrom(0, 0, 0, 1),
  seed: fc.integer(),
});

/** Small deterministic PRNG so each fast-check case picks its subsets reproducibly. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => ((s = (s * 1103515245 + 12345) >>> 0), s / 2 ** 32);
  const shuffle = <T>(a: T[]): T[] => {
    const b = [...a];
    for (let i = b.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [b[i], b[j]] = [b[j], b[i]];
    }
    return b;
  };
  return { next, shuffle };
}

describe('SLIP-39 split/combine properties', () => {
  it('round-trips from a threshold subset with extras, in any order', () => {
    fc.assert(
      fc.property(caseArb, ({ secret, layout, passphrase, extendable, iterationExponent, seed }) => {
        const { next, shuffle } = rng(seed);
        const split = splitSecret(secret, { ...layout, passphrase, extendable, iterationExponent });
        expect(split.extendable).toBe(extendable);
        const chosen = shuffle(split.groups.map((_, i) => i)).slice(0, layout.groupThreshold);
        const picked: string[] = [];
        split.groups.forEach((g, i) => {
          // chosen groups give their threshold (sometimes more); others may give an incomplete handful
          const n = chosen.includes(i) ? g.threshold + (next() < 0.3 ? g.count - g.threshold : 0) : Math.floor(next() * g.threshold);
          picked.push(...shuffle(g.mnemonics).slice(0, n));
        });
        const got = combineMnemonics(shuffle(picked), passphrase);
        expect(Buffer.from(got).toString('hex')).toBe(Buffer.from(secret).toString('hex'));
      }),
      { numRuns: 60 },
    );
  });

  it('refuses every subset below the threshold', () => {
    fc.assert(
      fc.property(caseArb, ({ secret, layout, passphrase, extendable, seed }) => {
        const { next, shuffle } = rng(seed);
        const split = splitSecret(secret, { ...layout, passphrase, extendable, iterationExponent: 0 });
        const chosen = shuffle(split.groups.map((_, i) => i)).slice(0, layout.groupThreshold);
        const short = chosen[0]; // this one gets one share too few, so too few groups are complete
        const picked: string[] = [];
        split.groups.forEach((g, i) => {
          const n = i === short ? g.threshold - 1 : chosen.includes(i) ? g.threshold : Math.floor(next() * g.threshold);
          picked.push(...shuffle(g.mnemonics).slice(0, n));
        });
        if (picked.length === 0) return; // nothing to combine: covered by the CLI's empty-input case
        expect(() => combineMnemonics(shuffle(picked), passphrase)).toThrowError(Slip39Error);
        expect(() => combineMnemonics(picked, passphrase)).toThrowError(/^not enough shares: /);
      }),
      { numRuns: 60 },
    );
  });
});
