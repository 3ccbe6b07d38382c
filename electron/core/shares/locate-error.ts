/**
 * Which word of a mistyped share is wrong. RS1024 has a minimum distance of 4, so one wrong word
 * is not only detected but located: exactly one position has a substitute word that makes the
 * checksum valid again, and with two wrong words no single substitution does. The remainder is
 * linear in each word, so for each position we look for the difference that cancels it (1024
 * XORs a position) instead of re-running the checksum 1024 times. Word 2 is solved once per
 * customization string, since one of its bits ("extendable") picks the string.
 *
 * Pure (word indices in, positions out; imports only rs1024.ts) so the renderer's word entry uses
 * the same code as the CLI. Never returns the substitute word: the custodian re-types it from the
 * sheet, and the guess would otherwise put share material on screens and in messages.
 */
import { rs1024Residue, rs1024Shift, rs1024Verify } from './rs1024.ts';

const WORDS = 1024;

function extendableOf(words: readonly number[]): boolean {
  return ((words[1] >> 4) & 1) === 1;
}

/** Whether a complete share's word indices pass the RS1024 checksum. */
export function checksumValid(words: readonly number[]): boolean {
  return words.length >= 4 && rs1024Verify([...words], extendableOf(words));
}

/**
 * The 1-based positions at which replacing the word by some other word of the list makes the
 * checksum valid. `words` holds word-list indices, or undefined where the typed word is not in the
 * list (then only those positions can be the culprit). Empty when the share already verifies, when
 * more than one word is wrong (or two are swapped), or when it is too short to judge.
 */
export function locateWrongWord(words: readonly (number | undefined)[]): number[] {
  if (words.length < 4) return [];
  const unknown = words.flatMap((w, i) => (w === undefined ? [i] : []));
  if (unknown.length > 1) return [];
  if (unknown.length === 0 && checksumValid(words as number[])) return [];
  const candidates = unknown.length === 1 ? unknown : words.map((_, i) => i);
  const trial = words.map((w) => w ?? 0);
  const n = trial.length;
  const target = rs1024Residue(trial, extendableOf(trial)) ^ 1;
  const found: number[] = [];
  for (const i of candidates) {
    const typed = words[i];
    const ok = (d: number) => (trial[i] ^ d) !== typed;
    if (i !== 1) {
      if (findDelta(target, n - 1 - i, ok)) found.push(i + 1);
      continue;
    }
    // Word 2 carries the extendable bit (bit 4), which picks the customization string: solve for
    // each string with the candidates whose bit matches it.
    const fixable = [false, true].some((ext) => {
      const t = rs1024Residue(trial, ext) ^ 1;
      return findDelta(t, n - 2, (d) => ok(d) && (((trial[1] ^ d) >> 4) & 1) === (ext ? 1 : 0));
    });
    if (fixable) found.push(i + 1);
  }
  return found;
}

/** Whether a difference d (0..1023, accepted by `ok`) at a position `steps` from the end cancels the remainder. */
function findDelta(target: number, steps: number, ok: (d: number) => boolean): boolean {
  const basis = Array.from({ length: 10 }, (_, b) => rs1024Shift(1 << b, steps));
  if (target === 0 && ok(0)) return true;
  // Gray code: each d differs from the previous one in one bit, so its effect is one XOR away.
  let v = 0;
  let d = 0;
  for (let k = 1; k < WORDS; k++) {
    const bit = 31 - Math.clz32(k & -k);
    v ^= basis[bit];
    d ^= 1 << bit;
    if (v === target && ok(d)) return true;
  }
  return false;
}

/** "word 12" / "words 3 and 12" / "" — for messages that must never quote the words themselves. */
export function describePositions(positions: readonly number[], total?: number): string {
  if (positions.length === 0) return '';
  const of = total ? ` of ${total}` : '';
  if (positions.length === 1) return `word ${positions[0]}${of}`;
  return `words ${positions.slice(0, -1).join(', ')} and ${positions[positions.length - 1]}${of}`;
}
