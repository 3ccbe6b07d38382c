/**
 * Recovery end to end on real SoftHSM tokens: a ceremony on one token, `keyrite recover` onto a
 * second, fresh token for every root algorithm SoftHSM can wrap. The recovered key is then used
 * through pkcs11-tool and checked with openssl against the ceremony's public key (or KCV) — no
 * Keyrite code in that check. The README's by-hand procedure (any SLIP-39 tool + openssl) is run
 * on the same bundles, and `keyrite verify` must list and accept each recovery.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RootAlgorithm } from '../../electron/core/hsm/types.ts';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import { cli, cliProcess, openssl, pkcs11Tool, runCeremony, tokenObjects, type CeremonyFixture } from './recover-fixtures.ts';

const PIN = '246810';
let sb: SoftHsmSandbox;
let work: string;
const ceremonies = new Map<RootAlgorithm, CeremonyFixture>();

/** How each algorithm's recovery is driven: real process or in-process CLI, stdin or --shares FILE. */
const CASES: { alg: RootAlgorithm; via: 'process' | 'in-process'; input: 'stdin' | 'file'; label?: string }[] = [
  { alg: 'ec-p384', via: 'process', input: 'stdin' },
  { alg: 'rsa-3072', via: 'process', input: 'file' },
  { alg: 'ec-p256', via: 'in-process', input: 'stdin' },
  { alg: 'aes-256', via: 'in-process', input: 'file', label: 'restored-aes-root' },
];

function events(file: string): { type: string; data: Record<string, any> }[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}
const eventData = (bundle: string, type: string) => events(path.join(bundle, 'transcript.jsonl')).find((e) => e.type === type)!.data;

beforeAll(async () => {
  sb = createSoftHsmSandbox();
  process.env.SOFTHSM2_CONF = sb.confPath;
  work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-recover-'));
  sb.initToken('ceremony', PIN);
  sb.initToken('byhand', PIN);
  for (const c of CASES) {
    ceremonies.set(c.alg, await runCeremony(sb, work, { id: `rec-${c.alg}`, algorithm: c.alg, tokenLabel: 'ceremony', pin: PIN }));
    sb.initToken(`target-${c.alg}`, PIN);
  }
});

afterAll(() => {
  sb?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.each(CASES)('recover $alg ($via, shares from $input)', ({ alg, via, input, label }) => {
  let c: CeremonyFixture;
  let result: { status: number; stdout: string; stderr: string };
  const target = `target-${alg}`;

  beforeAll(async () => {
    c = ceremonies.get(alg)!;
    // Threshold 2 of 3: share 3, a comment and a blank line, share 1, then a third share that is not needed.
    const text = `# custodian 3\n${c.shares[2]}\n\n${c.shares[0].toUpperCase()}\n${c.shares[1]}\n`;
    const args = ['recover', '--bundle', c.bundle, '--module', sb.module, '--token', target, '--pin-env', 'KR_PIN'];
    if (label) args.push('--label', label);
    let stdin: string | undefined = text;
    if (input === 'file') {
      const f = path.join(work, `${alg}-shares.txt`);
      writeFileSync(f, text);
      args.push('--shares', f);
      stdin = undefined;
    }
    const env = { KR_PIN: PIN };
    result = via === 'process' ? cliProcess(sb, args, { stdin, env }) : await cli(args, { stdin, env });
  });

  it('restores the key, saying after each share what is still needed', () => {
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/share 1: accepted — group 1, member 3 \(custodian c3\).*still needed: group 1 needs 1 more share/);
    expect(result.stdout).toMatch(/share 2: accepted — group 1, member 1 \(custodian c1\).*enough shares/);
    expect(result.stdout).not.toMatch(/share 3: accepted/);
    expect(result.stdout).toMatch(/1 more line not needed/);
    expect(result.stdout).toMatch(/Restored: +'/);
  });

  it('writes a signed recovery record that keyrite verify lists and accepts', async () => {
    const recs = readdirSync(path.join(c.bundle, 'recoveries'));
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatch(/^\d{8}T\d{6}Z$/);
    const dir = path.join(c.bundle, 'recoveries', recs[0]);
    expect(readdirSync(dir).sort()).toEqual(['keys', 'transcript.dsse.json', 'transcript.jsonl']);
    const evs = events(path.join(dir, 'transcript.jsonl'));
    expect(evs[0].type).toBe('recovery.started');
    expect(evs.at(-1)!.type).toBe('recovery.completed');
    expect(evs.filter((e) => e.type === 'recovery.share-accepted').map((e) => [e.data.group, e.data.member, e.data.position])).toEqual([[1, 3, 1], [1, 1, 2]]);
    const recovered = evs.find((e) => e.type === 'key.recovered')!.data;
    expect(recovered.label).toBe(label ?? c.label);
    expect(recovered.token.label).toBe(target);
    // Signers: the new recovery signer, and the recovered root where it signs.
    expect(readdirSync(path.join(dir, 'keys'))).toHaveLength(alg === 'aes-256' ? 1 : 2);

    const v = await cli(['verify', c.bundle, '--json']);
    expect(v.status).toBe(0);
    const json = JSON.parse(v.stdout);
    expect(json.valid).toBe(true);
    expect(json.recoveries).toHaveLength(1);
    // An AES root cannot sign: only the recovery's own new key vouches for it until someone co-signs.
    const verdict = alg === 'aes-256' ? 'UNAUTHENTICATED' : 'VALID';
    expect(json.recoveries[0]).toMatchObject({ path: `recoveries/${recs[0]}`, valid: true, complete: true, verdict });
    const text = await cli(['verify', c.bundle]);
    expect(text.stdout).toContain(`Recovery recoveries/${recs[0]}: ${verdict}\n`);
  });

  it('keeps no secret in the recovery record', () => {
    const dir = path.join(c.bundle, 'recoveries', readdirSync(path.join(c.bundle, 'recoveries'))[0]);
    const all = ['transcript.jsonl', 'transcript.dsse.json'].map((f) => readFileSync(path.join(dir, f), 'utf8')).join('\n').toLowerCase();
    const kek = cliProcess(sb, ['shares', 'combine'], { stdin: c.shares.join('\n') }).stdout.trim();
    expect(kek).toMatch(/^[0-9a-f]{64}$/);
    expect(all).not.toContain(kek);
    for (const s of c.shares) expect(all).not.toContain(s.split(' ').slice(4, 8).join(' '));
    expect(all).not.toContain(PIN);
  });

  it('the recovered key works through pkcs11-tool and matches the original, checked with openssl', () => {
    const id = eventData(c.bundle, 'key.generated').id as string;
    const listing = pkcs11Tool(sb, ['--token-label', target, '--login', '--pin', PIN, '--list-objects']);
    const key = listing.split(/\n(?=\S)/).find((b) => /^(Private|Secret) Key Object/.test(b) && b.includes(`ID:         ${id}`))!;
    expect(key).toContain(`label:      ${label ?? c.label}`);
    expect(key).toMatch(alg === 'aes-256' ? /Usage: +encrypt, decrypt/ : /Usage: .*\bsign\b/);
    // Sensitive, and sealed again (not extractable) as the ceremony left it.
    expect(key).toMatch(/Access: +sensitive$/m);
    const data = path.join(work, `${alg}-data.bin`);
    writeFileSync(data, `message for ${alg}\n`);
    const sig = path.join(work, `${alg}-sig`);
    const base = ['--token-label', target, '--login', '--pin', PIN, '--id', id];
    const pub = path.join(c.bundle, 'keys', 'root.pub.pem');
    if (alg === 'ec-p256' || alg === 'ec-p384') {
      // SoftHSM 2.6 has plain CKM_ECDSA only: hash with openssl, sign the hash in the token.
      const dgst = alg === 'ec-p256' ? '-sha256' : '-sha384';
      const hash = path.join(work, `${alg}-hash.bin`);
      writeFileSync(hash, openssl(['dgst', dgst, '-binary', data]));
      pkcs11Tool(sb, [...base, '--sign', '--mechanism', 'ECDSA', '--signature-format', 'openssl', '-i', hash, '-o', sig]);
      expect(openssl(['dgst', dgst, '-verify', pub, '-signature', sig, data]).toString()).toContain('Verified OK');
    } else if (alg === 'rsa-3072') {
      pkcs11Tool(sb, [...base, '--sign', '--mechanism', 'SHA256-RSA-PKCS', '-i', data, '-o', sig]);
      expect(openssl(['dgst', '-sha256', '-verify', pub, '-signature', sig, data]).toString()).toContain('Verified OK');
    } else {
      // AES: pkcs11-tool signs with private keys only, so the KCV (AES-CMAC over 16 zero bytes,
      // RFC 4493) is built from two AES-ECB encryptions in the token: L = E(0), K1 = dbl(L), CMAC = E(K1).
      const ecb = (block: Buffer): Buffer => {
        const i = path.join(work, 'ecb-in.bin');
        writeFileSync(i, block);
        pkcs11Tool(sb, [...base, '--encrypt', '--mechanism', 'AES-ECB', '-i', i, '-o', sig]);
        return readFileSync(sig);
      };
      const l = ecb(Buffer.alloc(16));
      const k1 = Buffer.alloc(16);
      for (let i = 0; i < 16; i++) k1[i] = ((l[i] << 1) | (i < 15 ? l[i + 1] >> 7 : 0)) & 0xff;
      if (l[0] & 0x80) k1[15] ^= 0x87;
      expect(ecb(k1).subarray(0, 3).toString('hex')).toBe(eventData(c.bundle, 'key.generated').kcv);
    }
  });

  it("the README's by-hand procedure (SLIP-39 tool + openssl) gives the same key", () => {
    // `keyrite shares combine` stands in for any SLIP-39 implementation (e.g. `shamir recover`).
    const kek = cliProcess(sb, ['shares', 'combine'], { stdin: `${c.shares[1]}\n${c.shares[2]}\n` }).stdout.trim();
    const zero = path.join(work, 'zero16.bin');
    writeFileSync(zero, Buffer.alloc(16));
    const kcv = openssl(['mac', '-cipher', 'AES-256-CBC', '-macopt', `hexkey:${kek}`, '-in', zero, 'CMAC']).toString().trim().slice(0, 6).toLowerCase();
    expect(kcv).toBe(eventData(c.bundle, 'backup.split').kekKcv);
    const material = path.join(work, `${alg}-root.der`);
    openssl(['enc', '-d', '-id-aes256-wrap-pad', '-K', kek, '-iv', 'A65959A6', '-in', path.join(c.bundle, 'backup', 'root.wrapped'), '-out', material]);
    if (alg === 'aes-256') {
      const key = readFileSync(material).toString('hex');
      expect(key).toHaveLength(64);
      const keyKcv = openssl(['mac', '-cipher', 'AES-256-CBC', '-macopt', `hexkey:${key}`, '-in', zero, 'CMAC']).toString().trim().slice(0, 6).toLowerCase();
      expect(keyKcv).toBe(eventData(c.bundle, 'key.generated').kcv);
      // And the recovered token key encrypts exactly as this independently unwrapped key does.
      const plain = path.join(work, 'plain32.bin');
      writeFileSync(plain, Buffer.from('thirty-two bytes of plain text!!'));
      const id = eventData(c.bundle, 'key.generated').id as string;
      const ct = path.join(work, 'aes-ct.bin');
      pkcs11Tool(sb, ['--token-label', `target-${alg}`, '--login', '--pin', PIN, '--id', id, '--encrypt', '--mechanism', 'AES-CBC', '--iv', '00'.repeat(16), '-i', plain, '-o', ct]);
      const expected = openssl(['enc', '-aes-256-cbc', '-nopad', '-K', key, '-iv', '00'.repeat(16), '-in', plain]);
      expect(readFileSync(ct).equals(expected)).toBe(true);
      // README step 4 for AES: a plaintext import with pkcs11-tool encrypts the same way.
      const hand = ['--token-label', 'byhand', '--login', '--pin', PIN];
      pkcs11Tool(sb, [...hand, '--write-object', material, '--type', 'secrkey', '--key-type', 'AES:32', '--label', 'hand-aes', '--id', 'a1', '--usage-decrypt', '--sensitive', '--private']);
      pkcs11Tool(sb, [...hand, '--id', 'a1', '--encrypt', '--mechanism', 'AES-CBC', '--iv', '00'.repeat(16), '-i', plain, '-o', ct]);
      expect(readFileSync(ct).equals(expected)).toBe(true);
    } else {
      // Trailing zero bytes (a token that zero-pads before wrapping) are not part of the key; openssl pkey ignores them.
      const pub = path.join(c.bundle, 'keys', 'root.pub.pem');
      const pem = openssl(['pkey', '-inform', 'DER', '-in', material, '-pubout']).toString();
      expect(pem).toBe(readFileSync(pub, 'utf8'));
      // README steps 4 and 5: import with pkcs11-tool, sign in the token, verify with openssl.
      const pk8 = path.join(work, `${alg}-root.pk8`);
      openssl(['pkey', '-inform', 'DER', '-in', material, '-outform', 'DER', '-out', pk8]);
      const id = { 'ec-p256': 'e1', 'ec-p384': 'e2', 'rsa-3072': 'e3' }[alg as string]!;
      const hand = ['--token-label', 'byhand', '--login', '--pin', PIN];
      pkcs11Tool(sb, [...hand, '--write-object', pk8, '--type', 'privkey', '--label', `hand-${alg}`, '--id', id, '--usage-sign', '--sensitive', '--private']);
      pkcs11Tool(sb, [...hand, '--write-object', pub, '--type', 'pubkey', '--label', `hand-${alg}`, '--id', id]);
      const data = path.join(work, `${alg}-hand-data.bin`);
      const sig = path.join(work, `${alg}-hand-sig.der`);
      writeFileSync(data, 'signed after a recovery by hand\n');
      if (alg === 'rsa-3072') {
        pkcs11Tool(sb, [...hand, '--id', id, '--sign', '--mechanism', 'SHA256-RSA-PKCS', '-i', data, '-o', sig]);
        expect(openssl(['dgst', '-sha256', '-verify', pub, '-signature', sig, data]).toString()).toContain('Verified OK');
      } else {
        const dgst = alg === 'ec-p256' ? '-sha256' : '-sha384';
        const hash = path.join(work, `${alg}-hand-hash.bin`);
        writeFileSync(hash, openssl(['dgst', dgst, '-binary', data]));
        pkcs11Tool(sb, [...hand, '--id', id, '--sign', '--mechanism', 'ECDSA', '--signature-format', 'openssl', '-i', hash, '-o', sig]);
        expect(openssl(['dgst', dgst, '-verify', pub, '-signature', sig, data]).toString()).toContain('Verified OK');
      }
    }
  });

  it('refuses a second recovery onto the same label, leaving the token as it was', async () => {
    const before = tokenObjects(sb, target, PIN);
    const args = ['recover', '--bundle', c.bundle, '--module', sb.module, '--token', target, '--pin-env', 'KR_PIN'];
    if (label) args.push('--label', label);
    const r = await cli(args, { stdin: `${c.shares[0]}\n${c.shares[1]}\n`, env: { KR_PIN: PIN } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^keyrite: error: token '${target}' already has \\d objects? labelled '${label ?? c.label}'.*nothing was changed\\n$`));
    expect(tokenObjects(sb, target, PIN)).toEqual(before);
    expect(readdirSync(path.join(c.bundle, 'recoveries'))).toHaveLength(1);
  });
});
