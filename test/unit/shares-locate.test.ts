/**
 * Locating a mistyped word with RS1024 (core/shares/locate-error.ts), on the published SLIP-39 test
 * vectors and on 33-word shares of a real split: every single wrong word is found at its position
 * and nowhere else, two wrong words are never blamed on one position, and both kinds of share (whose
 * checksum depends on a bit of word 2) are located too.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { splitSecret } from '../../electron/core/shares/index.ts';
import { checksumValid, describePositions, locateWrongWord } from '../../electron/core/shares/locate-error.ts';
import { allWords, wordIndex } from '../../electron/core/shares/wordlist.ts';

const vectors = JSON.parse(readFileSync('test/fixtures/slip39-vectors.json', 'utf8')) as [string, string[], string, string][];
const indices = (m: string) => m.split(' ').map((w) => wordIndex(w)!);
/** Another word of the list, chosen deterministically and different from the original. */
const other = (w: number, k: number) => (w + 1 + ((k * 37) % 1023)) % 1024;

const valid = vectors.filter((v) => v[2] !== '').flatMap((v) => v[1]);
const split = splitSecret(randomBytes(32), { groupThreshold: 1, groups: [{ threshold: 2, count: 3 }], iterationExponent: 0 });
const nonExtendable = splitSecret(randomBytes(32), { groupThreshold: 1, groups: [{ threshold: 2, count: 3 }], iterationExponent: 1, extendable: false });
const shares = [...valid, ...split.groups[0].mnemonics, ...nonExtendable.groups[0].mnemonics];

describe('locateWrongWord', () => {
  it('finds nothing wrong in a valid share', () => {
    for (const m of shares) {
      expect(checksumValid(indices(m))).toBe(true);
      expect(locateWrongWord(indices(m))).toEqual([]);
    }
  });

  it('names exactly the position of one wrong word, at every position of a 33-word share', () => {
    const m = indices(split.groups[0].mnemonics[1]);
    expect(m).toHaveLength(33);
    for (let i = 0; i < m.length; i++) {
      const typo = [...m];
      typo[i] = other(m[i], i);
      expect(checksumValid(typo)).toBe(false);
      expect(locateWrongWord(typo)).toEqual([i + 1]);
    }
  });

  it('locates one wrong word in the published vectors and in both kinds of share, extendable or not (word 2 included)', () => {
    for (const m of [...valid.slice(0, 6), ...nonExtendable.groups[0].mnemonics]) {
      const w = indices(m);
      for (const i of [0, 1, 2, 7, w.length - 1]) {
        const typo = [...w];
        typo[i] = other(w[i], i + 3);
        expect(locateWrongWord(typo), `${m.slice(0, 20)}… position ${i + 1}`).toEqual([i + 1]);
      }
    }
  });

  it('the published "invalid checksum" vector is one word off, and is located', () => {
    const bad = vectors.find((v) => v[0].startsWith('2. '))![1][0];
    expect(locateWrongWord(indices(bad))).toEqual([20]);
  });

  it('a word not in the list is the only suspect', () => {
    const m = indices(split.groups[0].mnemonics[0]);
    const typo: (number | undefined)[] = [...m];
    typo[11] = undefined;
    expect(locateWrongWord(typo)).toEqual([12]);
  });

  it('never blames one position for two wrong words or two swapped words', () => {
    const m = indices(split.groups[0].mnemonics[2]);
    for (let k = 0; k < 20; k++) {
      const i = k % 33;
      const j = (k * 7 + 5) % 33;
      if (i === j) continue;
      const typo = [...m];
      typo[i] = other(m[i], k);
      typo[j] = other(m[j], k + 11);
      expect(locateWrongWord(typo)).toEqual([]);
    }
    const swapped = [...m];
    [swapped[5], swapped[6]] = [swapped[6], swapped[5]];
    if (swapped[5] !== swapped[6]) expect(locateWrongWord(swapped)).toEqual([]);
    const twoUnknown: (number | undefined)[] = [...m];
    twoUnknown[3] = twoUnknown[9] = undefined;
    expect(locateWrongWord(twoUnknown)).toEqual([]);
  });

  it('describes positions without words', () => {
    expect(describePositions([12], 33)).toBe('word 12 of 33');
    expect(describePositions([3, 12])).toBe('words 3 and 12');
    expect(allWords()).toHaveLength(1024);
  });
});
