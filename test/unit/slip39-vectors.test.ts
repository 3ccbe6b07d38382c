/**
 * The 45 official SLIP-0039 test vectors (trezor/python-shamir-mnemonic vectors.json, copied to
 * test/fixtures). Valid ones are defined with the passphrase "TREZOR" and give both the master
 * secret and the BIP32 master xprv; invalid ones must be refused with a one-line Slip39Error.
 */
import { readFileSync } from 'node:fs';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { combineMnemonics, Slip39Error } from '../../electron/core/shares/index.ts';

type Vector = [description: string, mnemonics: string[], masterSecretHex: string, xprv: string];
const vectors = JSON.parse(readFileSync(new URL('../fixtures/slip39-vectors.json', import.meta.url), 'utf8')) as Vector[];

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58check(payload: Uint8Array): string {
  const data = new Uint8Array([...payload, ...sha256(sha256(payload)).subarray(0, 4)]);
  let n = 0n;
  for (const b of data) n = (n << 8n) | BigInt(b);
  let out = '';
  while (n > 0n) {
    out = B58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of data) {
    if (b !== 0) break;
    out = '1' + out;
  }
  return out;
}

/** BIP32 master key from a seed, serialized as a mainnet xprv (depth 0, no parent, child 0). */
function bip32MasterXprv(seed: Uint8Array): string {
  const i = hmac(sha512, new TextEncoder().encode('Bitcoin seed'), seed);
  const payload = new Uint8Array(78);
  payload.set([0x04, 0x88, 0xad, 0xe4], 0); // version; depth, fingerprint and child number stay 0
  payload.set(i.subarray(32), 13); // chain code
  payload[45] = 0x00;
  payload.set(i.subarray(0, 32), 46); // private key
  return base58check(payload);
}

describe('SLIP-0039 official vectors', () => {
  it('has all 45 vectors', () => {
    expect(vectors).toHaveLength(45);
  });

  for (const [description, mnemonics, secretHex, xprv] of vectors) {
    if (secretHex) {
      it(`recovers: ${description}`, () => {
        const secret = combineMnemonics(mnemonics, 'TREZOR');
        expect(Buffer.from(secret).toString('hex')).toBe(secretHex);
        expect(bip32MasterXprv(secret)).toBe(xprv);
      });
    } else {
      it(`refuses: ${description}`, () => {
        let caught: unknown;
        try {
          combineMnemonics(mnemonics, 'TREZOR');
        } catch (err) {
          caught = err;
        }
        expect(caught).toBeInstanceOf(Slip39Error);
        const msg = (caught as Slip39Error).message;
        expect((caught as Slip39Error).exitCode).toBe(1);
        expect(msg).not.toContain('\n');
        // No share words in messages (all words here are valid, so no "unknown word" case applies).
        const words = new Set(mnemonics.flatMap((m) => m.split(' ')));
        for (const token of msg.split(/[^a-z]+/)) if (token.length >= 4) expect(words.has(token), `'${token}' in: ${msg}`).toBe(false);
      });
    }
  }

  it('names the reason for typical invalid vectors', () => {
    const byNumber = (n: number) => vectors[n - 1][1];
    const msg = (n: number) => {
      try {
        combineMnemonics(byNumber(n), 'TREZOR');
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(msg(2)).toBe('share 1: checksum does not match (word 20 looks wrong)');
    expect(msg(3)).toBe('share 1: invalid padding');
    expect(msg(5)).toBe('not enough shares: group 1 needs 1 more share');
    expect(msg(6)).toMatch(/^share 2: belongs to a different share set \(identifier \d+, expected \d+\)$/);
    expect(msg(7)).toMatch(/^share 2: belongs to a different share set \(iteration exponent/);
    expect(msg(11)).toMatch(/^share 2: same group and member number as share 1/);
    expect(msg(12)).toMatch(/^share 2: member threshold 2 differs from share 1/);
    expect(msg(13)).toMatch(/^shares 1 and 2 \(group 1\) do not fit together/);
    expect(msg(14)).toBe('not enough shares: 1 more group needed');
    expect(msg(39)).toMatch(/^share 1: too short \(19 words/);
    expect(msg(40)).toBe('share 1: invalid length (21 words)');
  });
});
