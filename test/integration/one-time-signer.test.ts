/**
 * The one-time ceremony signer (docs/transcript.md), attacked as an insider holding the token and its PIN would:
 * after a completed ceremony neither `keyrite ceremony sign` nor a direct C_Sign with any private key
 * left on the token (graphene, no Keyrite HSM code) produces a signature by the ceremony signer; the
 * rewrite attack (edit a step's text, re-chain, delete envelope and report, `ceremony sign`) is refused
 * and the rewritten bundle does not verify. A recovery destroys its own signer too, and names the
 * ceremony's statement digest.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as graphene from 'graphene-pk11';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ecdsaRawToDer } from '../../electron/core/hsm/index.ts';
import { canonicalJson, sha256Hex } from '../../electron/core/transcript/chain.ts';
import { pae, statementDigest, verifySignature } from '../../electron/core/transcript/dsse.ts';
import { verifyBundle } from '../../electron/core/verify/index.ts';
import { makeTokenEnv, PIN, runCeremony, type RunOutcome, type TokenEnv } from '../helpers/ceremony-fixture.ts';
import { runCli } from '../helpers/reliability.ts';

let env: TokenEnv;
let run: RunOutcome;
const pinEnv = { P: PIN };

type Ev = { v: 1; seq: number; time: string; type: string; actor: string; data: Record<string, any>; prev: string };
const readEvents = (file: string): Ev[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const envelopeOf = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'transcript.dsse.json'), 'utf8'));
const statementOf = (dir: string) => JSON.parse(Buffer.from(envelopeOf(dir).payload, 'base64').toString('utf8'));

beforeAll(async () => {
  env = makeTokenEnv('one-time', ['recovery-target']);
  run = await runCeremony(env, { id: 'onetime-p256', algorithm: 'ec-p256' });
});

afterAll(() => {
  env?.sandbox.dispose();
  if (env) rmSync(env.work, { recursive: true, force: true });
});

/**
 * Every private key on the token, tried directly through graphene (C_FindObjects, C_Sign): returns
 * how many signatures over `data` verify with `spki`, and how many keys were tried.
 */
function directSignAttempts(tokenLabel: string, spki: Buffer, data: Buffer): { tried: number; verified: number; bySignerId: number } {
  const mod = graphene.Module.load(env.sandbox.module);
  mod.initialize();
  try {
    const slots = mod.getSlots(true);
    let slot: graphene.Slot | undefined;
    for (let i = 0; i < slots.length; i++) if (slots.items(i).getToken().label.trim() === tokenLabel) slot = slots.items(i);
    const session = slot!.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
    session.login(PIN, graphene.UserType.USER);
    try {
      const keys = session.find({ class: graphene.ObjectClass.PRIVATE_KEY });
      let verified = 0;
      for (let i = 0; i < keys.length; i++) {
        const key = keys.items(i).toType<graphene.PrivateKey>();
        for (const [mech, msg] of [
          [graphene.MechanismEnum.ECDSA, createHash('sha384').update(data).digest()],
          [graphene.MechanismEnum.ECDSA, createHash('sha256').update(data).digest()],
        ] as const) {
          try {
            const raw = session.createSign(mech, key).once(msg);
            if (verifySignature(spki, data, ecdsaRawToDer(raw))) verified++;
          } catch {
            /* not an EC key, or not allowed to sign: no signature */
          }
        }
      }
      const signerId = readEvents(path.join(run.bundleDir, 'transcript.jsonl')).find((e) => e.type === 'signer.generated')!.data.id as string;
      const bySignerId = session.find({ id: Buffer.from(signerId, 'hex') }).length;
      return { tried: keys.length, verified, bySignerId };
    } finally {
      session.logout();
      session.close();
    }
  } finally {
    mod.finalize();
  }
}

describe('after a completed ceremony, with the token and its PIN', () => {
  it('the statement names the one-time signer, and no key left on the token signs for it (direct C_Sign)', () => {
    const st = statementOf(run.bundleDir);
    const signer = readEvents(path.join(run.bundleDir, 'transcript.jsonl')).find((e) => e.type === 'signer.generated')!.data;
    expect(st.predicate.ceremonySigner).toEqual({ keyid: signer.keyid, oneTime: true });
    const spki = Buffer.from(signer.spki, 'base64');
    expect(createPublicKey({ key: spki, format: 'der', type: 'spki' }).asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
    const forged = pae('application/vnd.in-toto+json', Buffer.from('{"forged":true}'));
    const r = directSignAttempts(env.tokenLabel, spki, forged);
    // The root (ec-p256) is still there and can sign: the attempt is real, and proves nothing for the signer.
    expect(r.tried).toBeGreaterThanOrEqual(1);
    expect(r.verified).toBe(0);
    expect(r.bySignerId).toBe(0);
    // The same attempt with the root's public key does find its key: the method works.
    const rootSpki = Buffer.from(readEvents(path.join(run.bundleDir, 'transcript.jsonl')).find((e) => e.type === 'key.generated')!.data.publicKey.spki, 'base64');
    expect(directSignAttempts(env.tokenLabel, rootSpki, forged).verified).toBe(1);
  });

  it('`ceremony sign` refuses the signed bundle', async () => {
    const r = await runCli(['ceremony', 'sign', run.bundleDir, '--pin-env', 'P'], pinEnv);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^keyrite: error: ceremony 'onetime-p256' is already signed/);
  });

  it('the rewrite attack — edit a step, re-chain, delete envelope and report, `ceremony sign` — is refused and INVALID', async () => {
    const copy = path.join(env.work, 'rewritten', 'onetime-p256');
    cpSync(run.bundleDir, copy, { recursive: true });
    const file = path.join(copy, 'transcript.jsonl');
    const events = readEvents(file);
    const step = events.find((e) => e.type === 'step.acknowledged')!;
    step.data.text = 'The room was NOT sealed; nobody checked.';
    // Re-chain every line after the edit, and ceremony.completed's chainHead with it.
    let prev = '0'.repeat(64);
    const lines = events.map((e, i) => {
      e.prev = prev;
      if (e.type === 'ceremony.completed') e.data.chainHead = prev;
      const line = canonicalJson(e);
      prev = sha256Hex(line);
      expect(e.seq).toBe(i);
      return line;
    });
    writeFileSync(file, lines.join('\n') + '\n');
    rmSync(path.join(copy, 'transcript.dsse.json'));
    rmSync(path.join(copy, 'report.html'));

    const r = await runCli(['ceremony', 'sign', copy, '--pin-env', 'P'], pinEnv);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^keyrite: error: [^\n]*\n$/);
    expect(r.stderr).not.toContain(PIN);
    expect(existsSync(path.join(copy, 'transcript.dsse.json'))).toBe(false);
    expect(verifyBundle(copy).valid).toBe(false);
    // Putting the old envelope back does not help: its subjects name the old transcript.
    cpSync(path.join(run.bundleDir, 'transcript.dsse.json'), path.join(copy, 'transcript.dsse.json'));
    cpSync(path.join(run.bundleDir, 'report.html'), path.join(copy, 'report.html'));
    expect(verifyBundle(copy).verdict).toBe('INVALID');
  });
});

describe('a recovery', () => {
  it('names the ceremony statement digest in recovery.started and destroys its own signer after signing', async () => {
    const sheets = readdirSync(run.sharesOut).filter((f) => f.endsWith('.txt')).sort();
    const sharesFile = path.join(env.work, 'rec-shares.txt');
    writeFileSync(sharesFile, sheets.slice(0, 2).map((f) => readFileSync(path.join(run.sharesOut, f), 'utf8').trim()).join('\n') + '\n');
    const r = await runCli(['recover', '--bundle', run.bundleDir, '--module', env.sandbox.module, '--token', 'recovery-target', '--pin-env', 'P', '--shares', sharesFile], pinEnv);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const recDir = path.join(run.bundleDir, 'recoveries', readdirSync(path.join(run.bundleDir, 'recoveries'))[0]);
    const events = readEvents(path.join(recDir, 'transcript.jsonl'));
    expect(events[0].data.ceremonyStatementSha256).toBe(statementDigest(envelopeOf(run.bundleDir)));
    const signer = events.find((e) => e.type === 'signer.generated')!.data;
    const st = statementOf(recDir);
    expect(st.predicate.ceremonySigner).toEqual({ keyid: signer.keyid, oneTime: true });
    expect(st.predicate.ceremonyStatementSha256).toBe(statementDigest(envelopeOf(run.bundleDir)));
    // On the target token: the recovered root's two objects, and nothing of the recovery signer.
    const mod = graphene.Module.load(env.sandbox.module);
    mod.initialize();
    try {
      const slots = mod.getSlots(true);
      let slot: graphene.Slot | undefined;
      for (let i = 0; i < slots.length; i++) if (slots.items(i).getToken().label.trim() === 'recovery-target') slot = slots.items(i);
      const s = slot!.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
      s.login(PIN, graphene.UserType.USER);
      expect(s.find({ label: signer.label }).length).toBe(0);
      expect(s.find({ id: Buffer.from(signer.id, 'hex') }).length).toBe(0);
      expect(s.find({ label: 'onetime-p256-root' }).length).toBe(2);
      s.logout();
      s.close();
    } finally {
      mod.finalize();
    }
    expect(verifyBundle(run.bundleDir).recoveries[0]?.valid).toBe(true);
  });
});
