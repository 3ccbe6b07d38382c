/**
 * The SLIP-39 word list (1024 words, resources/slip39-wordlist.txt) and word-level parsing.
 * Every word is unique in its first 4 letters, so a 4-letter prefix is enough to identify it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Slip39Error, sharePrefix } from './errors.ts';

const WORDLIST_URL = new URL('../../../resources/slip39-wordlist.txt', import.meta.url);

let cache: { words: readonly string[]; byWord: Map<string, number>; byPrefix: Map<string, number> } | undefined;

function load() {
  if (cache) return cache;
  const words = readFileSync(fileURLToPath(WORDLIST_URL), 'utf8').split(/\r?\n/).map((w) => w.trim()).filter(Boolean);
  if (words.length !== 1024) throw new Error(`SLIP-39 word list has ${words.length} words, expected 1024`);
  const byWord = new Map(words.map((w, i) => [w, i] as const));
  const byPrefix = new Map(words.map((w, i) => [w.slice(0, 4), i] as const));
  if (byPrefix.size !== 1024) throw new Error('SLIP-39 word list: 4-letter prefixes are not unique');
  cache = { words, byWord, byPrefix };
  return cache;
}

export function wordAt(index: number): string {
  return load().words[index];
}

export function allWords(): readonly string[] {
  return load().words;
}

/**
 * Index of a word, given in full or by an unambiguous prefix of at least 4 letters, any case.
 * Returns undefined for anything else.
 */
export function wordIndex(token: string): number | undefined {
  const { words, byWord, byPrefix } = load();
  const t = token.toLowerCase();
  const exact = byWord.get(t);
  if (exact !== undefined) return exact;
  if (t.length < 4) return undefined;
  const i = byPrefix.get(t.slice(0, 4));
  return i !== undefined && words[i].startsWith(t) ? i : undefined;
}

/** Splits text on any whitespace and maps each word to its index; names the position of the first unknown word. */
export function mnemonicToIndices(text: string, position?: number): number[] {
  const tokens = text.trim().split(/\s+/).filter(Boolean);
  return tokens.map((tok, i) => {
    const idx = wordIndex(tok);
    if (idx === undefined) {
      // Only the position is named: a mistyped word is usually one letter away from the real share
      // word, so echoing it would put a near-secret into messages, transcripts and screens.
      throw new Slip39Error(`${sharePrefix(position)}unknown word at position ${i + 1} (not in the SLIP-39 word list)`);
    }
    return idx;
  });
}

/** Canonical form of a mnemonic: full lowercase words separated by single spaces. */
export function normalizeMnemonic(text: string, position?: number): string {
  return mnemonicToIndices(text, position).map(wordAt).join(' ');
}
