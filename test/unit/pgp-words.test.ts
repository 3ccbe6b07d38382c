/**
 * The PGP word list against published encodings: the example of the PGP word list's Wikipedia page
 * (a 20-byte fingerprint) and a second vector from an independent implementation's tests; the lists'
 * shape (256 + 256 distinct words, even/odd by position); and the CLI's paper anchor.
 */
import { describe, expect, it } from 'vitest';
import { groupedHex, statementAnchorText } from '../../electron/cli/anchor.ts';
import { PGP_EVEN_WORDS, PGP_ODD_WORDS, pgpWords, pgpWordsOfHex } from '../../electron/core/transcript/pgp-words.ts';

describe('PGP word list', () => {
  it('encodes the published example fingerprint', () => {
    expect(pgpWordsOfHex('E58294F2E9A227486E8B061B31CC528FD7FA3F19').join(' ')).toBe(
      'topmost Istanbul Pluto vagabond treadmill Pacific brackish dictator goldfish Medusa afflict bravado chatter revolver Dupont midsummer stopwatch whimsical cowbell bottomless',
    );
    expect(pgpWordsOfHex('12b4b0057400076fa5c0f5cbf726ac65').join(' ')).toBe(
      'atlas politeness ruffled almighty indoors adroitness ahead hemisphere reindeer recipe vapor revival virus caretaker ribcage glossary',
    );
  });

  it('has 256 two-syllable and 256 three-syllable words, all distinct; position decides the list', () => {
    expect(PGP_EVEN_WORDS).toHaveLength(256);
    expect(PGP_ODD_WORDS).toHaveLength(256);
    expect(new Set([...PGP_EVEN_WORDS, ...PGP_ODD_WORDS].map((w) => w.toLowerCase())).size).toBe(512);
    expect([PGP_EVEN_WORDS[0], PGP_ODD_WORDS[0], PGP_EVEN_WORDS[255], PGP_ODD_WORDS[255]]).toEqual(['aardvark', 'adroitness', 'Zulu', 'Yucatan']);
    expect(pgpWords(Uint8Array.from([0, 0, 0xff, 0xff]))).toEqual(['aardvark', 'adroitness', 'Zulu', 'Yucatan']);
    expect(() => pgpWordsOfHex('abc')).toThrow();
    expect(() => pgpWordsOfHex('zz')).toThrow();
  });

  it('the paper anchor shows the digest in groups of 8 hex digits and 32 words, 8 to a line', () => {
    const digest = 'e58294f2e9a227486e8b061b31cc528fd7fa3f19' + '00'.repeat(12);
    expect(groupedHex(digest)).toBe('e58294f2 e9a22748 6e8b061b 31cc528f d7fa3f19 00000000 00000000 00000000');
    const lines = statementAnchorText(digest).trimEnd().split('\n');
    expect(lines[1]).toBe(`  ${groupedHex(digest)}`);
    expect(lines.slice(3)).toHaveLength(4);
    expect(lines[3]).toBe('  topmost Istanbul Pluto vagabond treadmill Pacific brackish dictator');
    expect(lines.slice(3).join(' ').trim().split(/\s+/)).toHaveLength(32);
  });
});
