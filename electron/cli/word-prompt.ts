/**
 * A custodian types a share at the terminal: one no-echo prompt per word with a counter
 * ("word 12 of 33"), each word checked against the SLIP-39 list as it is typed. A whole line of
 * words is accepted too (it fills the following positions). When all words are in and the RS1024
 * checksum fails, the one wrong word is located (core/shares/locate-error.ts) and only that word is
 * asked for again. Messages name positions, never words: a typo is close to the real share word.
 */
import { OperationError } from '../core/errors.ts';
import { checksumValid, locateWrongWord } from '../core/shares/locate-error.ts';
import { wordAt, wordIndex } from '../core/shares/wordlist.ts';
import type { CliIO } from './command.ts';

/** Keyrite backs up a 256-bit key: 33 words a share. */
export const SHARE_WORDS = 33;
/** After this many whole re-entries of one share the caller's error handling takes over. */
const MAX_RESTARTS = 3;

/**
 * Reads one share's words at no-echo prompts. Returns the words (full, lower case) once their
 * checksum is valid; whether they are the right share is the caller's check (its check value).
 */
export async function promptShareWords(io: CliIO, who: string, total = SHARE_WORDS): Promise<string> {
  io.stderr(`${who}: type the ${total} words of your share, one at a time (they are not shown; a whole line of words also works).\n`);
  for (let restart = 0; ; restart++) {
    const words: number[] = [];
    while (words.length < total) {
      const tokens = (await io.promptSecret(`  word ${words.length + 1} of ${total}: `)).trim().split(/\s+/).filter(Boolean);
      for (const tok of tokens) {
        if (words.length === total) {
          io.stderr(`  (more than ${total} words were typed; the extra ones are ignored)\n`);
          break;
        }
        // A word not in the list is asked for again at once; the rest of a pasted line still counts.
        words.push(await knownWord(io, tok, words.length + 1, total));
      }
    }
    if (checksumValid(words)) return words.map(wordAt).join(' ');
    let wrong = locateWrongWord(words);
    // The located word is asked for again; if the checksum still fails it is located afresh (a
    // custodian may mistype the correction too), and after three rounds, or when no single word
    // explains the failure, the whole share is typed again.
    for (let tries = 0; wrong.length === 1 && tries < 3; tries++) {
      const p = wrong[0];
      io.stderr(`  the share's checksum does not match: word ${p} looks wrong. Check word ${p} on your sheet.\n`);
      words[p - 1] = await knownWord(io, undefined, p, total);
      if (checksumValid(words)) return words.map(wordAt).join(' ');
      wrong = locateWrongWord(words);
    }
    words.fill(0);
    if (restart + 1 >= MAX_RESTARTS) throw new OperationError(`${who}: the share's checksum still does not match after ${MAX_RESTARTS} tries`);
    io.stderr(`  the share's checksum does not match and no single word explains it (two words wrong, or two swapped?); type the share again from word 1\n`);
  }
}

/** The index of `typed` if it is a word of the list; otherwise asks for word `position` again until it is. */
async function knownWord(io: CliIO, typed: string | undefined, position: number, total: number): Promise<number> {
  for (;;) {
    const idx = typed ? wordIndex(typed) : undefined;
    if (idx !== undefined) return idx;
    if (typed) io.stderr(`  word ${position} is not in the SLIP-39 word list; check it on your sheet and type it again\n`);
    typed = (await io.promptSecret(`  word ${position} of ${total}, again: `)).trim().split(/\s+/)[0];
  }
}
