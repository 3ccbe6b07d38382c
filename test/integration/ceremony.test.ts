/**
 * Whole ceremonies on a real SoftHSM token: every algorithm the token can back up runs from plan to
 * signed bundle, the keys are on the token as intended (read back by OpenSC's pkcs11-tool, not by
 * Keyrite), the ceremony signer's signature verifies with openssl on the PAE bytes, and the bundle
 * passes `verify`. Ed25519, which SoftHSM signs with but cannot wrap, is refused before any key exists.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openModule } from '../../electron/core/hsm/index.ts';
import { pae } from '../../electron/core/transcript/dsse.ts';
import { verifyBundle } from '../../electron/core/verify/index.ts';
import { makeTokenEnv, PIN, runCeremony, type TokenEnv } from '../helpers/ceremony-fixture.ts';

let env: TokenEnv;
beforeAll(() => {
  env = makeTokenEnv('ceremony-token');
});
afterAll(() => env.sandbox.dispose());

function toolObjects(): string {
  return execFileSync('pkcs11-tool', ['--module', env.sandbox.module, '--token-label', env.tokenLabel, '--login', '--pin', PIN, '--list-objects'], {
    env: { ...process.env, SOFTHSM2_CONF: env.sandbox.confPath },
    encoding: 'utf8',
  });
}

/** The block pkcs11-tool prints for the object with this label and class. */
function toolBlock(listing: string, kind: 'Private Key' | 'Secret Key' | 'Public Key', label: string): string | undefined {
  return listing
    .split(/\n(?=\S)/)
    .find((b) => b.startsWith(`${kind} Object`) && new RegExp(`label:\\s+${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'm').test(b));
}

const ALGS = [
  ['ec-p384', 'Private Key'],
  ['ec-p256', 'Private Key'],
  ['rsa-3072', 'Private Key'],
  ['rsa-4096', 'Private Key'],
  ['aes-256', 'Secret Key'],
] as const;

describe('a whole ceremony per algorithm', () => {
  for (const [alg, kind] of ALGS) {
    it(`${alg}: signed bundle that verifies; keys on the token as planned`, async () => {
      const id = `cer-${alg}`;
      const r = await runCeremony(env, { id, algorithm: alg, seal: alg === 'ec-p384' });
      const v = verifyBundle(r.bundleDir);
      expect(v.checks.filter((c) => !c.ok)).toEqual([]);
      // The report's chain head is the signed one (the hash of the last event), as the CLI printed it.
      const report = readFileSync(path.join(r.bundleDir, 'report.html'), 'utf8');
      expect(report).toMatch(/Chain head \(hash of the last event, signed\)/);
      expect(report.replace(/<[^>]+>|\s/g, '')).toContain(r.chainHead);
      expect(v.valid).toBe(true);

      // Read back independently: OpenSC's view of the token.
      const listing = toolObjects();
      const root = toolBlock(listing, kind, `${id}-root`);
      expect(root, listing).toBeDefined();
      expect(root).toMatch(/Access:.*\bsensitive\b/);
      expect(root).toMatch(/Access:.*always sensitive/);
      expect(root).not.toMatch(/never extractable/);
      const events = readFileSync(path.join(r.bundleDir, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const generated = events.find((e) => e.type === 'key.generated');
      expect(root).toMatch(new RegExp(`ID:\\s+${generated.data.id}`));
      if (kind === 'Private Key') {
        expect(root).toMatch(/Usage:.*\bsign\b/);
        expect(toolBlock(listing, 'Public Key', `${id}-root`)).toBeDefined();
      }
      // The one-time ceremony signer signed the statement and was destroyed (both halves).
      expect(listing).not.toContain(`keyrite-signer:${id}`);
      const signerEvent = events.find((e) => e.type === 'signer.generated');
      expect(listing).not.toMatch(new RegExp(`ID:\\s+${signerEvent.data.id}`));
      const statement = JSON.parse(Buffer.from(JSON.parse(readFileSync(path.join(r.bundleDir, 'transcript.dsse.json'), 'utf8')).payload, 'base64').toString('utf8'));
      expect(statement.predicate.ceremonySigner).toEqual({ keyid: signerEvent.data.keyid, oneTime: true });

      // Key attributes as recorded match a fresh read through the HSM layer.
      const mod = openModule(env.sandbox.module);
      try {
        const s = mod.login({ label: env.tokenLabel }, PIN);
        const ref = s.findKey({ label: `${id}-root`, kind: kind === 'Secret Key' ? 'secret' : 'private' })!;
        const attrs = s.readAttributes(ref);
        expect(attrs).toMatchObject({ token: true, private: true, sensitive: true, alwaysSensitive: true, local: true, extractable: alg !== 'ec-p384' });
        s.close();
      } finally {
        mod.close();
      }
    });
  }

  it('the ceremony signer signature verifies with openssl on the PAE bytes', async () => {
    const r = await runCeremony(env, { id: 'cer-openssl', algorithm: 'ec-p256' });
    const envelope = JSON.parse(readFileSync(path.join(r.bundleDir, 'transcript.dsse.json'), 'utf8'));
    const signer = r.signers.find((s) => s.role === 'ceremony')!;
    const sig = envelope.signatures.find((x: any) => x.keyid === signer.keyid);
    const work = path.join(env.work, 'openssl');
    execFileSync('mkdir', ['-p', work]);
    writeFileSync(path.join(work, 'pae.bin'), pae(envelope.payloadType, Buffer.from(envelope.payload, 'base64')));
    writeFileSync(path.join(work, 'sig.der'), Buffer.from(sig.sig, 'base64'));
    const out = execFileSync('openssl', ['dgst', '-sha384', '-verify', path.join(r.bundleDir, 'keys', `${signer.keyid}.pub.pem`), '-signature', path.join(work, 'sig.der'), path.join(work, 'pae.bin')], { encoding: 'utf8' });
    expect(out.trim()).toBe('Verified OK');
    // The root (P-256) signed too, with SHA-256.
    const rootSig = envelope.signatures.find((x: any) => x.keyid !== signer.keyid);
    writeFileSync(path.join(work, 'root.der'), Buffer.from(rootSig.sig, 'base64'));
    const out2 = execFileSync('openssl', ['dgst', '-sha256', '-verify', path.join(r.bundleDir, 'keys', 'root.pub.pem'), '-signature', path.join(work, 'root.der'), path.join(work, 'pae.bin')], { encoding: 'utf8' });
    expect(out2.trim()).toBe('Verified OK');
    // And a flipped PAE byte does not verify.
    const bad = pae(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));
    bad[bad.length - 2] ^= 1;
    writeFileSync(path.join(work, 'pae.bin'), bad);
    expect(() => execFileSync('openssl', ['dgst', '-sha384', '-verify', path.join(r.bundleDir, 'keys', `${signer.keyid}.pub.pem`), '-signature', path.join(work, 'sig.der'), path.join(work, 'pae.bin')], { stdio: 'pipe' })).toThrow();
  });
});

describe('refusals before anything is created', () => {
  function objectCount(): number {
    const mod = openModule(env.sandbox.module);
    try {
      const s = mod.login({ label: env.tokenLabel }, PIN);
      const n = s.listObjects().length;
      s.close();
      return n;
    } finally {
      mod.close();
    }
  }

  it('a label that already exists on the token', async () => {
    await runCeremony(env, { id: 'cer-first', algorithm: 'ec-p256', label: 'taken-label' });
    const before = objectCount();
    await expect(runCeremony(env, { id: 'cer-second', algorithm: 'ec-p256', label: 'taken-label' })).rejects.toThrow(
      /label 'taken-label' free: token 'ceremony-token' already has 2 object\(s\) labelled 'taken-label'/,
    );
    expect(objectCount()).toBe(before);
    expect(existsSync(path.join(env.work, 'bundles', 'cer-second'))).toBe(false);
    expect(readdirSync(path.join(env.work, 'cer-second-shares'))).toEqual([]);
  });

  it('ed25519: the token cannot wrap it, so the backup is impossible', async () => {
    const before = objectCount();
    await expect(runCeremony(env, { id: 'cer-ed', algorithm: 'ed25519' })).rejects.toThrow(/capability: backup wrap and unwrap of ed25519: token 'ceremony-token' cannot wrap EC_EDWARDS key/);
    expect(objectCount()).toBe(before);
    expect(existsSync(path.join(env.work, 'bundles', 'cer-ed'))).toBe(false);
  });

  it('an output folder that exists', async () => {
    mkdirSync(path.join(env.work, 'bundles', 'cer-exists'), { recursive: true });
    const before = objectCount();
    await expect(runCeremony(env, { id: 'cer-exists', algorithm: 'ec-p256' })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/cer-exists already exists; a ceremony never overwrites a bundle/),
    });
    expect(objectCount()).toBe(before);
    expect(readdirSync(path.join(env.work, 'bundles', 'cer-exists'))).toEqual([]);
  });

  it('a mistyped word in a confirmation is named by its position, never echoed', async () => {
    const { Ceremony } = await import('../../electron/core/ceremony/engine.ts');
    const { writePlan } = await import('../helpers/ceremony-fixture.ts');
    const c = Ceremony.load(writePlan(env, { id: 'cer-typo', algorithm: 'ec-p256', steps: false }), { outDir: path.join(env.work, 'bundles'), frontEnd: 'cli', rehearsal: true });
    try {
      Ceremony.assertPreflight(c.preflight());
      c.login(PIN);
      c.begin();
      c.generate();
      const shares = c.backup();
      const first = await c.shareSheet(0);
      for (const sh of shares) c.markPrinted(sh.index, { kind: 'file', file: 'test' });
      const words = first.text.trim().split(' ');
      const typo = `${words[4].slice(0, -1)}${words[4].endsWith('x') ? 'q' : 'x'}z`;
      words[4] = typo;
      let message = '';
      try {
        c.confirmShare(0, words.join(' '), 'typed');
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/unknown word at position 5 \(not in the SLIP-39 word list\)/);
      expect(message).not.toContain(typo);
      c.abort(message);
      const transcript = readFileSync(path.join(env.work, 'bundles', 'cer-typo', 'transcript.jsonl'), 'utf8');
      expect(transcript).toContain('ceremony.aborted');
      expect(transcript).not.toContain(typo);
      expect(transcript).toContain('"step":"confirm"');
    } finally {
      c.close();
    }
  });

});
