/**
 * Which word of a mistyped share is wrong. RS1024 has a minimum distance of 4, so one wrong word
 * is not only detected but located: exactly one position has a substitute word that makes the
 * checksum valid again, and with two wrong words no single substitution does. We try each
 * position against the whole word list (33 × 1024 checksums, a few milliseconds) rather than
 * decode the syndrome, because the customization string depends on a bit of word 2 ("extendable"),
 * which a substitution at that position may change.
 *
 * Pure (word indices in, positions out; imports only rs1024.ts) so the renderer's word entry uses
 * the same code as the CLI. Never returns the substitute word: the custodian re-types it from the
 * sheet, and the guess would otherwise put share material on screens and in messages.
 */
import { rs1024Verify } from './rs1024.ts';

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
  const found: number[] = [];
  for (const i of candidates) {
    const original = trial[i];
    for (let w = 0; w < WORDS; w++) {
      if (w === words[i]) continue;
      trial[i] = w;
      if (rs1024Verify(trial, extendableOf(trial))) {
        found.push(i + 1);
        break;
      }
    }
    trial[i] = original;
  }
  return found;
}

/** "word 12" / "words 3 and 12" / "" — for messages that must never quote the words themselves. */
export function describePositions(positions: readonly number[], total?: number): string {
  if (positions.length === 0) return '';
  const of = total ? ` of ${total}` : '';
  if (positions.length === 1) return `word ${positions[0]}${of}`;
  return `words ${positions.slice(0, -1).join(', ')} and ${positions[positions.length - 1]}${of}`;
}
