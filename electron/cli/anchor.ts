import { pgpWordsOfHex } from '../core/transcript/pgp-words.ts';

/** The statement digest in groups of 8 hex digits, as it is read aloud and written down. */
export function groupedHex(hex: string): string {
  return hex.match(/.{1,8}/g)?.join(' ') ?? '';
}

/**
 * The paper anchor printed at the end of a ceremony (docs/transcript.md): the statement digest in hex and as
 * PGP words, eight to a line, for the witnesses to read aloud and write on the paper record.
 * `keyrite verify BUNDLE --expect-statement HEX` checks it later.
 */
export function statementAnchorText(statementSha256: string): string {
  const words = pgpWordsOfHex(statementSha256);
  const lines: string[] = [];
  for (let i = 0; i < words.length; i += 8) lines.push(`  ${words.slice(i, i + 8).join(' ')}`);
  return [
    'Statement digest (SHA-256 of the signed statement; read it aloud and write it on the paper record):',
    `  ${groupedHex(statementSha256)}`,
    'As words (PGP word list):',
    ...lines,
    '',
  ].join('\n');
}

/** How a statement signer is named in the CLI's summaries: the ceremony signer says it is gone. */
export function signerRoleText(role: string): string {
  return role === 'ceremony' ? 'ceremony signer, one-time: destroyed on the token after signing' : role;
}
