import { createHash } from 'node:crypto';
import { normalizeMnemonic } from './wordlist.ts';

const CHECK_PREFIX = 'keyrite share check v1\n';

/** docs/transcript.md: first 8 bytes (hex) of SHA-256 over the prefix and the already normalized mnemonic. */
export function checkValueOfNormalized(normalized: string): string {
  return createHash('sha256').update(CHECK_PREFIX + normalized, 'utf8').digest('hex').slice(0, 16);
}

/**
 * The share's check value (docs/transcript.md), public data that the transcript records so a re-entered share can
 * be confirmed. Accepts any case, any whitespace and 4-letter word prefixes: it hashes the full words.
 */
export function shareCheckValue(mnemonic: string): string {
  return checkValueOfNormalized(normalizeMnemonic(mnemonic));
}
