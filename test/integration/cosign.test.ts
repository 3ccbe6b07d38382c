/**
 * `keyrite ceremony cosign` on a real bundle: witnesses and the administrator each co-sign with a key
 * on their own SoftHSM token, made and read with pkcs11-tool (no Keyrite code): EC P-256, RSA-2048,
 * EC P-384 and Ed25519. Every signature in the envelope verifies over the same PAE (one is checked
 * with openssl alone); the refusals (a key the plan does not register, a participant who is no
 * witness, a second co-signature, a bundle that does not verify) exit 1 and change nothing. A
 * recovery folder is co-signed the same way.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHeadlessCeremony, type HeadlessRunResult } from '../../electron/cli/ceremony-runner.ts';
import { sha256Hex } from '../../electron/core/transcript/chain.ts';
import { pae, RECOVERY_PREDICATE_TYPE, signBundle, softwareSigner, statementDigest, verifySignature } from '../../electron/core/transcript/dsse.ts';
import { captureIO, makeTokenEnv, PIN, writePlan, type TokenEnv } from '../helpers/ceremony-fixture.ts';
import { runCli } from '../helpers/reliability.ts';

let env: TokenEnv;
let run: HeadlessRunResult & { sharesOut: string };
const pinEnv = { P: PIN };
/** Each participant's own token and the key pkcs11-tool made on it. */
const CARDS = {
  wes: { token: 'wes-card', keyType: 'EC:prime256v1', label: 'wes-sign' },
  wil: { token: 'wil-card', keyType: 'rsa:2048', label: 'wil-sign' },
  ada: { token: 'ada-card', keyType: 'EC:secp384r1', label: 'ada-sign' },
  eve: { token: 'eve-card', keyType: 'EC:prime256v1', label: 'eve-sign' },
  ed: { token: 'ed-card', keyType: 'EC:edwards25519', label: 'ed-sign' },
} as const;
const keyids: Record<string, string> = {};

function tool(args: string[]): string {
  return execFileSync('pkcs11-tool', ['--module', env.sandbox.module, ...args], { env: env.sandbox.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A signing key pair on a participant's card, and (where pkcs11-tool can export it) its keyid read back as SPKI DER by pkcs11-tool. */
function makeCard(name: keyof typeof CARDS): void {
  const c = CARDS[name];
  tool(['--token-label', c.token, '--login', '--pin', PIN, '--keypairgen', '--key-type', c.keyType, '--label', c.label, '--id', '0a']);
  // This pkcs11-tool cannot export P-384 or Ed25519 public keys: their keyids come from cosign's output.
  if (c.keyType.includes('edwards') || c.keyType.includes('384')) return;
  const der = path.join(env.work, `${name}.der`);
  tool(['--token-label', c.token, '--login', '--pin', PIN, '--read-object', '--type', 'pubkey', '--id', '0a', '-o', der]);
  keyids[name] = sha256Hex(readFileSync(der));
}

const envelopeOf = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'transcript.dsse.json'), 'utf8'));
const cosign = (dir: string, who: string, card: keyof typeof CARDS, extra: string[] = []) =>
  runCli(['ceremony', 'cosign', dir, '--as', who, '--module', env.sandbox.module, '--token', CARDS[card].token, '--pin-env', 'P', ...extra], pinEnv);

/** Every file of a folder with its bytes, to prove a refusal wrote nothing. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const name = path.join(rel, e.name);
      if (e.isDirectory()) walk(name);
      else out.set(name, readFileSync(path.join(dir, name)).toString('base64'));
    }
  };
  walk('');
  return out;
}

/** Every signature of an envelope checked over its PAE with the key the bundle names for it. */
function verifiedSignatures(dir: string, envelope = envelopeOf(dir)): { keyid: string; ok: boolean }[] {
  const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
  const msg = pae(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));
  return envelope.signatures.map((s: { keyid: string; sig: string }) => {
    const listed = statement.predicate.signers.find((x: { keyid: string }) => x.keyid === s.keyid);
    const spki = Buffer.from(listed ? listed.spki : JSON.parse(readFileSync(path.join(dir, 'cosignatures', `${s.keyid}.json`), 'utf8')).spki, 'base64');
    return { keyid: s.keyid, ok: sha256Hex(spki) === s.keyid && verifySignature(spki, msg, Buffer.from(s.sig, 'base64')) };
  });
}

beforeAll(async () => {
  env = makeTokenEnv('cosign-ceremony', [...Object.values(CARDS).map((c) => c.token), 'recovery-target']);
  for (const name of Object.keys(CARDS) as (keyof typeof CARDS)[]) makeCard(name);
  // The plan registers wes's key; wil (a second witness) and ada are not pre-registered.
  const planFile = writePlan(env, { id: 'cosigned', algorithm: 'ec-p256' });
  const plan = JSON.parse(readFileSync(planFile, 'utf8'));
  plan.participants[1].keyid = keyids.wes;
  plan.participants.splice(2, 0, { id: 'wil', name: 'Wil Witness', role: 'witness' }, { id: 'ed', name: 'Ed Witness', role: 'witness' }, { id: 'obs', name: 'Olga Observer', role: 'observer' });
  writeFileSync(planFile, JSON.stringify(plan, null, 2));
  const sharesOut = path.join(env.work, 'cosigned-shares');
  mkdirSync(sharesOut, { recursive: true });
  const r = await runHeadlessCeremony(
    { planFile, outDir: path.join(env.work, 'bundles'), sharesOut, confirmFrom: sharesOut, ackAll: true, rehearsal: true, frontEnd: 'cli', pin: PIN, quiet: true },
    captureIO(),
  );
  run = { ...r, sharesOut };
  // A recovery, made before anyone co-signs (verify's view of co-signatures is not this file's concern).
  const sheets = readdirSync(sharesOut).filter((f) => f.endsWith('.txt')).sort();
  const sharesFile = path.join(env.work, 'rec-shares.txt');
  writeFileSync(sharesFile, sheets.slice(0, 2).map((f) => readFileSync(path.join(sharesOut, f), 'utf8').trim()).join('\n') + '\n');
  const rec = await runCli(['recover', '--bundle', r.bundleDir, '--module', env.sandbox.module, '--token', 'recovery-target', '--pin-env', 'P', '--shares', sharesFile], pinEnv);
  if (rec.code !== 0) throw new Error(rec.stderr);
});

afterAll(() => {
  env?.sandbox.dispose();
  if (env) rmSync(env.work, { recursive: true, force: true });
});

describe('keyrite ceremony cosign', () => {
  it('refuses a key the plan does not register for the participant, before anything is written', async () => {
    const before = snapshot(run.bundleDir);
    const r = await cosign(run.bundleDir, 'wes', 'eve');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^keyrite: error: key 'eve-sign' \\(keyid ${keyids.eve}\\) is not the key the plan registers for 'wes' \\(${keyids.wes}\\); nothing was signed\\n$`));
    expect(snapshot(run.bundleDir)).toEqual(before);
    // Nor may a key the plan registers for wes sign as wil (who has none registered): verify's cosignatures would refuse it.
    const as = await cosign(run.bundleDir, 'wil', 'wes');
    expect(as.code).toBe(1);
    expect(as.stderr).toMatch(new RegExp(`^keyrite: error: key 'wes-sign' \\(keyid ${keyids.wes}\\) is the key the plan registers for 'wes', not 'wil'; nothing was signed\\n$`));
    expect(snapshot(run.bundleDir)).toEqual(before);
  });

  it('two witnesses co-sign with their own tokens (EC P-256, RSA); every signature verifies over the same PAE', async () => {
    const payload = envelopeOf(run.bundleDir).payload;
    const r1 = await cosign(run.bundleDir, 'wes', 'wes');
    expect(r1.stderr).toBe('');
    expect(r1.code).toBe(0);
    expect(r1.stdout).toContain(`as 'wes' (witness), key ${keyids.wes}`);
    expect(r1.stdout).toContain(statementDigest(envelopeOf(run.bundleDir)).slice(0, 8));
    const r2 = await cosign(run.bundleDir, 'wil', 'wil', ['--key-label', 'wil-sign']);
    expect(r2.stderr).toBe('');
    expect(r2.code).toBe(0);

    const envelope = envelopeOf(run.bundleDir);
    expect(envelope.payload).toBe(payload);
    expect(envelope.signatures.map((s: { keyid: string }) => s.keyid).slice(2)).toEqual([keyids.wes, keyids.wil]);
    expect(verifiedSignatures(run.bundleDir).every((s) => s.ok)).toBe(true);
    expect(readdirSync(path.join(run.bundleDir, 'cosignatures')).sort()).toEqual([`${keyids.wes}.json`, `${keyids.wil}.json`].sort());
    const record = JSON.parse(readFileSync(path.join(run.bundleDir, 'cosignatures', `${keyids.wil}.json`), 'utf8'));
    expect(Object.keys(record).sort()).toEqual(['participant', 'role', 'signedAt', 'spki', 'token']);
    expect(record).toMatchObject({ participant: 'wil', role: 'witness', token: { manufacturer: 'SoftHSM project', model: 'SoftHSM v2' } });
    expect(record.signedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(record.token.serialNumber).toMatch(/^[0-9a-f]+$/);

    // wes's EC P-256 co-signature checked with openssl alone: SHA-256, DER, over the PAE bytes.
    const work = path.join(env.work, 'openssl');
    mkdirSync(work, { recursive: true });
    writeFileSync(path.join(work, 'pae.bin'), pae(envelope.payloadType, Buffer.from(envelope.payload, 'base64')));
    writeFileSync(path.join(work, 'sig.der'), Buffer.from(envelope.signatures[2].sig, 'base64'));
    execFileSync('openssl', ['pkey', '-pubin', '-inform', 'DER', '-in', path.join(env.work, 'wes.der'), '-out', path.join(work, 'wes.pem')]);
    const out = execFileSync('openssl', ['dgst', '-sha256', '-verify', path.join(work, 'wes.pem'), '-signature', path.join(work, 'sig.der'), path.join(work, 'pae.bin')], { encoding: 'utf8' });
    expect(out.trim()).toBe('Verified OK');
  });

  it('the administrator co-signs with EC P-384, and a witness with Ed25519', async () => {
    const a = await cosign(run.bundleDir, 'ada', 'ada');
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    keyids.ada = /as 'ada' \(administrator\), key ([0-9a-f]{64})/.exec(a.stdout)![1];
    const e = await cosign(run.bundleDir, 'ed', 'ed');
    expect(e.stderr).toBe('');
    expect(e.code).toBe(0);
    const sigs = verifiedSignatures(run.bundleDir);
    expect(sigs).toHaveLength(6);
    expect(sigs.every((s) => s.ok)).toBe(true);
    const edSig = envelopeOf(run.bundleDir).signatures[5];
    expect(Buffer.from(edSig.sig, 'base64')).toHaveLength(64);
  });

  it('verify with a policy: a quorum of 2 co-signers is VALID, the bundle missing one is not; the paper digest checks', async () => {
    const policy = path.join(env.work, 'policy.json');
    writeFileSync(policy, JSON.stringify({ version: 1, ceremonyId: 'cosigned', cosigners: { keyids: [keyids.wes, keyids.wil], min: 2 } }));
    const digest = statementDigest(envelopeOf(run.bundleDir));
    const ok = await runCli(['verify', run.bundleDir, '--policy', policy, '--expect-statement', digest]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/VALID/);
    expect((await runCli(['verify', run.bundleDir, '--expect-statement', sha256Hex('another statement')])).code).toBe(1);

    // Without wil's co-signature (envelope entry and record gone), the quorum of 2 is not met.
    const one = path.join(env.work, 'quorum-1', 'cosigned');
    cpSync(run.bundleDir, one, { recursive: true });
    const e = envelopeOf(one);
    e.signatures = e.signatures.filter((x: { keyid: string }) => x.keyid !== keyids.wil);
    writeFileSync(path.join(one, 'transcript.dsse.json'), JSON.stringify(e, null, 2) + '\n');
    rmSync(path.join(one, 'cosignatures', `${keyids.wil}.json`));
    const short = await runCli(['verify', one, '--policy', policy]);
    expect(short.code).toBe(1);

    // One byte of the payload changed after co-signing: INVALID.
    const flipped = path.join(env.work, 'quorum-flip', 'cosigned');
    cpSync(run.bundleDir, flipped, { recursive: true });
    const f = envelopeOf(flipped);
    const payload = Buffer.from(f.payload, 'base64');
    payload[payload.length - 10] ^= 1;
    f.payload = payload.toString('base64');
    writeFileSync(path.join(flipped, 'transcript.dsse.json'), JSON.stringify(f, null, 2) + '\n');
    const bad = await runCli(['verify', flipped, '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).verdict).toBe('INVALID');
  });

  it('refuses a second co-signature, a participant who is no witness, a custodian and a stranger; nothing changes', async () => {
    const before = snapshot(run.bundleDir);
    const cases: [string, keyof typeof CARDS, RegExp][] = [
      ['wes', 'wes', /'wes' has already co-signed .* each participant co-signs once/],
      ['obs', 'eve', /'obs' is a observer in .*plan\.json; only a witness or the administrator co-signs/],
      ['c1', 'eve', /'c1' is a custodian in .*; only a witness or the administrator co-signs/],
      ['zed', 'eve', /'zed' is not a participant in .*plan\.json/],
    ];
    for (const [who, card, says] of cases) {
      const r = await cosign(run.bundleDir, who, card);
      expect(r.code, who).toBe(1);
      expect(r.stderr).toMatch(/^keyrite: error: [^\n]*\n$/);
      expect(r.stderr).toMatch(says);
      expect(r.stderr).not.toContain(PIN);
    }
    expect(snapshot(run.bundleDir)).toEqual(before);
  });

  it('refuses a key that already co-signed, under another participant', async () => {
    // A copy whose plan lets a fresh participant in: same bundle, so the key already signed.
    const copy = path.join(env.work, 'again', 'cosigned');
    cpSync(run.bundleDir, copy, { recursive: true });
    const r = await runCli(['ceremony', 'cosign', copy, '--as', 'ada', '--module', env.sandbox.module, '--token', 'wes-card', '--pin-env', 'P'], pinEnv);
    // ada co-signed already in the bundle: refused as a participant first.
    expect(r.code).toBe(1);
    rmSync(path.join(copy, 'cosignatures', `${keyids.ada}.json`));
    const env2 = envelopeOf(copy);
    env2.signatures = env2.signatures.filter((s: { keyid: string }) => s.keyid !== keyids.ada);
    writeFileSync(path.join(copy, 'transcript.dsse.json'), JSON.stringify(env2, null, 2) + '\n');
    const again = await runCli(['ceremony', 'cosign', copy, '--as', 'ada', '--module', env.sandbox.module, '--token', 'wes-card', '--pin-env', 'P'], pinEnv);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`key 'wes-sign' \\(keyid ${keyids.wes}\\) has already co-signed this statement \\(as 'wes'\\)`));
  });

  it('one byte of the payload changed after co-signing: no signature verifies, and co-signing is refused', async () => {
    const copy = path.join(env.work, 'flipped', 'cosigned');
    cpSync(run.bundleDir, copy, { recursive: true });
    const envelope = envelopeOf(copy);
    const payload = Buffer.from(envelope.payload, 'base64');
    payload[payload.length - 10] ^= 1;
    envelope.payload = payload.toString('base64');
    writeFileSync(path.join(copy, 'transcript.dsse.json'), JSON.stringify(envelope, null, 2) + '\n');
    // The payload no longer parses the same, or verifies: check the signatures with the original keys.
    const original = envelopeOf(run.bundleDir);
    const orig = verifiedSignatures(run.bundleDir, original);
    const msg = pae(envelope.payloadType, payload);
    for (const [i, s] of original.signatures.entries()) {
      const statement = JSON.parse(Buffer.from(original.payload, 'base64').toString('utf8'));
      const listed = statement.predicate.signers.find((x: { keyid: string }) => x.keyid === s.keyid);
      const spki = Buffer.from(listed ? listed.spki : JSON.parse(readFileSync(path.join(copy, 'cosignatures', `${s.keyid}.json`), 'utf8')).spki, 'base64');
      expect(orig[i].ok).toBe(true);
      expect(verifySignature(spki, msg, Buffer.from(s.sig, 'base64'))).toBe(false);
    }
    const r = await runCli(['ceremony', 'cosign', copy, '--as', 'wil', '--module', env.sandbox.module, '--token', 'eve-card', '--pin-env', 'P'], pinEnv);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not verify|not a DSSE envelope/);
  });

  it('a file changed after signing: co-signing is refused', async () => {
    const copy = path.join(env.work, 'edited', 'cosigned');
    cpSync(run.bundleDir, copy, { recursive: true });
    writeFileSync(path.join(copy, 'report.html'), readFileSync(path.join(copy, 'report.html'), 'utf8') + ' ');
    const before = snapshot(copy);
    const r = await runCli(['ceremony', 'cosign', copy, '--as', 'wil', '--module', env.sandbox.module, '--token', 'eve-card', '--pin-env', 'P'], {});
    // Refused before the PIN is even read: P is not set here, yet the error is about the bundle.
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--pin-env names P, which is not set/);
    const r2 = await runCli(['ceremony', 'cosign', copy, '--as', 'wil', '--module', env.sandbox.module, '--token', 'eve-card', '--pin-env', 'P'], pinEnv);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/report\.html does not match its digest in the signed statement; the bundle does not verify, nothing was signed/);
    expect(snapshot(copy)).toEqual(before);
  });

  it('an unsigned folder and a folder that is not a bundle', async () => {
    const empty = path.join(env.work, 'not-a-bundle');
    mkdirSync(empty, { recursive: true });
    const r = await runCli(['ceremony', 'cosign', empty, '--as', 'wes', '--module', env.sandbox.module, '--token', 'wes-card', '--pin-env', 'P'], pinEnv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has no transcript\.jsonl: it is not a Keyrite bundle/);
    const unsigned = path.join(env.work, 'unsigned', 'cosigned');
    cpSync(run.bundleDir, unsigned, { recursive: true });
    rmSync(path.join(unsigned, 'transcript.dsse.json'));
    const u = await runCli(['ceremony', 'cosign', unsigned, '--as', 'wes', '--module', env.sandbox.module, '--token', 'wes-card', '--pin-env', 'P'], pinEnv);
    expect(u.code).toBe(1);
    expect(u.stderr).toMatch(/is not signed yet/);
  });

  it('`keyrite report --attestation` renders the paper page from the co-signed bundle, never into it', async () => {
    const out = path.join(env.work, 'attestation.html');
    const before = snapshot(run.bundleDir);
    const r = await runCli(['report', run.bundleDir, '--attestation', '--out', out, '--paper', 'Letter']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(snapshot(run.bundleDir)).toEqual(before);
    const html = readFileSync(out, 'utf8');
    const digest = statementDigest(envelopeOf(run.bundleDir));
    expect(html).toContain(`data-statement="${digest}"`);
    expect(html).toContain('size:letter');
    for (const who of ['wes', 'wil', 'ada', 'ed']) expect(html).toMatch(new RegExp(`co-signer, (witness|administrator) \\(${who}\\)`));
    expect(html).toContain('Wil Witness');
    expect(html).toContain('REHEARSAL');
    expect((await runCli(['report', run.bundleDir, '--attestation', '--out', out])).code).toBe(2);
    expect((await runCli(['report', run.bundleDir, '--paper', 'A4'])).code).toBe(2);
  });

  it('co-signs a recovery folder the same way', async () => {
    const recDir = path.join(run.bundleDir, 'recoveries', readdirSync(path.join(run.bundleDir, 'recoveries'))[0]);
    const r = await cosign(recDir, 'wes', 'wes');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Co-signed recovery /);
    expect(existsSync(path.join(recDir, 'cosignatures', `${keyids.wes}.json`))).toBe(true);
    expect(verifiedSignatures(recDir).every((s) => s.ok)).toBe(true);
    // The unregistered key is refused on a recovery too.
    const bad = await cosign(recDir, 'wes', 'eve');
    expect(bad.code).toBe(1);
    // A recovery that does not name its ceremony's statement is never co-signed.
    const copy = path.join(env.work, 'unbound', 'cosigned');
    cpSync(run.bundleDir, copy, { recursive: true });
    const recCopy = path.join(copy, 'recoveries', path.basename(recDir));
    const lines = readFileSync(path.join(recCopy, 'transcript.jsonl'), 'utf8').split('\n');
    lines[0] = lines[0].replace(/"ceremonyStatementSha256":"[0-9a-f]{64}",/, '');
    writeFileSync(path.join(recCopy, 'transcript.jsonl'), lines.join('\n'));
    // Signed afresh (a software key), so that only the missing link is wrong.
    rmSync(path.join(recCopy, 'transcript.dsse.json'));
    rmSync(path.join(recCopy, 'cosignatures'), { recursive: true });
    const predicate = JSON.parse(Buffer.from(envelopeOf(recDir).payload, 'base64').toString('utf8')).predicate;
    signBundle({ bundleDir: recCopy, predicateType: RECOVERY_PREDICATE_TYPE, predicate, signers: [softwareSigner('ceremony', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey)] });
    const unbound = await cosign(recCopy, 'wil', 'wil');
    expect(unbound.code).toBe(1);
    expect(unbound.stderr).toMatch(/does not name the statement of the ceremony in .*\(recovery\.started\.ceremonyStatementSha256 missing, the ceremony's [0-9a-f]{16}…\); nothing was signed/);
  });
});
