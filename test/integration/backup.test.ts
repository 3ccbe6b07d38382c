/**
 * The backup works with no Keyrite code on the recovery side but SLIP-39 itself: a ceremony with
 * two of three groups (each two of three custodians), then EVERY threshold subset of the written
 * sheets recovers the backup key, and node:crypto's RFC 5649 unwrap (id-aes256-wrap-pad) of
 * backup/root.wrapped gives a private key whose public key is keys/root.pub.pem.
 */
import { createDecipheriv, createPrivateKey, createPublicKey } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { combineMnemonics, shareCheckValue } from '../../electron/core/shares/index.ts';
import { makeTokenEnv, runCeremony, type TokenEnv } from '../helpers/ceremony-fixture.ts';

let env: TokenEnv;
beforeAll(() => {
  env = makeTokenEnv('backup-token');
});
afterAll(() => env.sandbox.dispose());

function subsets<T>(xs: T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (xs.length < k) return [];
  const [h, ...t] = xs;
  return [...subsets(t, k - 1).map((s) => [h, ...s]), ...subsets(t, k)];
}

function unwrap(kek: Buffer, wrapped: Buffer): Buffer {
  const d = createDecipheriv('id-aes256-wrap-pad', kek, Buffer.from('a65959a6', 'hex'));
  return Buffer.concat([d.update(wrapped), d.final()]);
}

describe('backup: 2-of-3 groups, each 2-of-3 custodians', () => {
  it('every threshold subset of the sheets recovers the key', async () => {
    const r = await runCeremony(env, {
      id: 'backup-groups',
      algorithm: 'ec-p384',
      groupThreshold: 2,
      groups: [
        { threshold: 2, count: 3 },
        { threshold: 2, count: 3 },
        { threshold: 2, count: 3 },
      ],
    });
    const files = readdirSync(r.sharesOut).filter((f) => f.endsWith('.txt')).sort();
    expect(files).toHaveLength(9);
    expect(readdirSync(r.sharesOut).filter((f) => f.endsWith('.html'))).toHaveLength(9);
    const byGroup = [1, 2, 3].map((g) => files.filter((f) => f.startsWith(`share-${g}-`)).map((f) => readFileSync(path.join(r.sharesOut, f), 'utf8').trim()));
    for (const g of byGroup) for (const m of g) expect(m.split(' ')).toHaveLength(33);

    // Shares are never in the bundle; their check values are, in backup.split.
    const events = readFileSync(path.join(r.bundleDir, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const split = events.find((e) => e.type === 'backup.split').data;
    expect(split.groups).toEqual([{ threshold: 2, count: 3 }, { threshold: 2, count: 3 }, { threshold: 2, count: 3 }]);
    expect(split.shares.map((s: any) => s.checkValue).sort()).toEqual(byGroup.flat().map(shareCheckValue).sort());
    expect(events.filter((e) => e.type === 'share.confirmed')).toHaveLength(9);

    const wrapped = readFileSync(path.join(r.bundleDir, 'backup', 'root.wrapped'));
    const rootSpki = createPublicKey(readFileSync(path.join(r.bundleDir, 'keys', 'root.pub.pem'))).export({ type: 'spki', format: 'der' });
    let tried = 0;
    let kekHex: string | undefined;
    for (const groups of subsets([0, 1, 2], 2)) {
      const choices = groups.map((g) => subsets(byGroup[g], 2));
      for (const a of choices[0])
        for (const b of choices[1]) {
          const kek = Buffer.from(combineMnemonics([...a, ...b]));
          kekHex ??= kek.toString('hex');
          expect(kek.toString('hex')).toBe(kekHex);
          const pkcs8 = unwrap(kek, wrapped); // SoftHSM's zero padding may follow the DER: node's parser ignores it
          const spki = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({ type: 'spki', format: 'der' });
          expect(spki.equals(rootSpki)).toBe(true);
          tried++;
        }
    }
    expect(tried).toBe(27);

    // Below threshold: one group only, or one share per group, does not give the key.
    expect(() => combineMnemonics(byGroup[0])).toThrow(/group/);
    expect(() => combineMnemonics([byGroup[0][0], byGroup[1][0]])).toThrow(/needs 1 more/);
  });
});

describe('backup with a SLIP-39 passphrase', () => {
  it('the shares need the passphrase; without it they give another key', async () => {
    const r = await runCeremony(env, { id: 'backup-pass', algorithm: 'aes-256', passphrase: true, passphraseValue: 'correct horse' });
    const events = readFileSync(path.join(r.bundleDir, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(events.find((e) => e.type === 'backup.split').data.passphrase).toBe(true);
    expect(events.find((e) => e.type === 'backup.recovery-tested').data.ok).toBe(true);
    expect(readFileSync(path.join(r.bundleDir, 'transcript.jsonl'), 'utf8')).not.toContain('correct horse');
    // Every sheet tells its custodian that the passphrase is needed too.
    for (const f of readdirSync(r.sharesOut).filter((x) => x.endsWith('.html'))) expect(readFileSync(path.join(r.sharesOut, f), 'utf8')).toContain('and the SLIP-39 passphrase');
    const shares = readdirSync(r.sharesOut).filter((f) => f.endsWith('.txt')).slice(0, 2).map((f) => readFileSync(path.join(r.sharesOut, f), 'utf8').trim());
    const wrapped = readFileSync(path.join(r.bundleDir, 'backup', 'root.wrapped'));
    expect(unwrap(Buffer.from(combineMnemonics(shares, 'correct horse')), wrapped)).toHaveLength(32);
    expect(() => unwrap(Buffer.from(combineMnemonics(shares, 'wrong')), wrapped)).toThrow();
  });
});
