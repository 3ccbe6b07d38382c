/**
 * Re-share on SoftHSM (docs/lifecycle.md): generate with a 2-of-3 group, then re-share to a new 2-of-3
 * layout of other custodians. The old shares must open the old backup (else nothing is touched); the
 * new shares recover the root into a fresh token and the old shares do not open the new
 * root.wrapped; the bundle verifies; the old backup is listed as retired; history shows the new set
 * as the version's current one.
 */
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { CEREMONY_PREDICATE_TYPE, keyidOf, signBundle, softwareSigner, writeSignerPublicKey, type PredicateBase } from '../../electron/core/transcript/dsse.ts';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../electron/cli/keyrite.ts';
import { checkPlanObject } from '../../electron/core/ceremony/plan.ts';
import { aesKcvSoftware } from '../../electron/core/ceremony/recovery-kcv.ts';
import { openModule } from '../../electron/core/hsm/index.ts';
import { statementDigest } from '../../electron/core/lifecycle/facts.ts';
import type { HistoryResult } from '../../electron/core/lifecycle/history.ts';
import { combineMnemonics } from '../../electron/core/shares/index.ts';
import { readTranscript } from '../../electron/core/transcript/read.ts';
import { verifyBundle } from '../../electron/core/verify/index.ts';
import { captureIO, makeTokenEnv, PIN, type TokenEnv } from '../helpers/ceremony-fixture.ts';
import { runLifecycle } from '../helpers/lifecycle-fixture.ts';

let env: TokenEnv;
let v1: { bundleDir: string; statementSha256: string; sharesOut: string };
let planDir: string;
const words = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.txt')).sort().map((f) => readFileSync(path.join(dir, f), 'utf8').trim());
const events = (dir: string) => readTranscript(readFileSync(path.join(dir, 'transcript.jsonl'))).events;

function plan(id: string, previous: string): Record<string, unknown> {
  return {
    version: 1, ceremony: 'reshare', id, title: 'New custodians',
    previous: { bundle: path.relative(planDir, previous), statementSha256: statementDigest(previous) },
    participants: [
      { id: 'ada', name: 'Ada Admin', role: 'administrator' },
      { id: 'wes', name: 'Wes Witness', role: 'witness' },
      ...['c1', 'c2', 'c3', 'd1', 'd2', 'd3'].map((c) => ({ id: c, name: `Custodian ${c}`, role: 'custodian' })),
    ],
    hsm: { module: env.sandbox.module, tokenLabel: env.tokenLabel },
    backup: { groupThreshold: 1, groups: [{ threshold: 2, custodians: ['d1', 'd2', 'd3'] }], iterationExponent: 0 },
    steps: [{ id: 'room', text: 'The old custodians bring their sheets.', ackBy: ['wes'] }],
  };
}

async function cli(...argv: string[]) {
  const io = captureIO({ env: { ...process.env, TEST_PIN: PIN }, cwd: env.work });
  const code = await main(argv, io);
  return { code, out: io.out.join(''), err: io.err.join('') };
}

beforeAll(async () => {
  env = makeTokenEnv('ceremony-token', ['fresh-token']);
  planDir = path.join(env.work, 'reshare-plan');
  mkdirSync(planDir, { recursive: true });
  v1 = await runLifecycle(env, { id: 'acme-root', algorithm: 'aes-256', label: 'acme-v1' });
}, 120_000);

afterAll(() => {
  env?.sandbox.dispose();
  if (env) rmSync(env.work, { recursive: true, force: true });
});

describe('ceremony reshare', () => {
  let bundle: string;
  const newSheets = () => path.join(env.work, 'new-sheets');

  it('plan check: a re-share plan with its own rules', async () => {
    const file = path.join(planDir, 'check.json');
    writeFileSync(file, JSON.stringify(plan('acme-root-reshare-check', v1.bundleDir)));
    const r = await cli('plan', 'check', file);
    expect(r.out).toMatch(/re-share plan 'acme-root-reshare-check' is valid \(version 1 of acme-root, shares of set \d+ to 1 new group\(s\)\)/);
    const bad = plan('acme-root-reshare-check', v1.bundleDir) as { backup: { groups: { custodians: string[] }[] }; participants: { id: string }[] };
    bad.backup.groups[0].custodians = ['d1', 'ada', 'd3'];
    bad.participants = bad.participants.filter((p) => p.id !== 'c2');
    writeFileSync(file, JSON.stringify(bad));
    const b = await cli('plan', 'check', file);
    expect(b.code).toBe(2);
    expect(b.out).toContain("backup.groups[0].custodians[1]: 'ada' is not a custodian of this plan");
    expect(b.out).toContain("participants: 'c2' holds a share of the current set (acme-root) and must be a participant of this plan, to acknowledge destroying their old sheet");
  });

  it('refuses shares that do not open the old backup before touching the token', async () => {
    const file = path.join(planDir, 'bad.json');
    writeFileSync(file, JSON.stringify(plan('acme-root-reshare-bad', v1.bundleDir)));
    const old = words(v1.sharesOut);
    writeFileSync(path.join(env.work, 'one.txt'), old[0] + '\n');
    const r = await cli('ceremony', 'reshare', '--rehearsal', '--ack-all', '--plan', file, '--out', path.join(env.work, 'bundles'), '--shares', 'one.txt', '--shares-out', 'x', '--pin-env', 'TEST_PIN');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/^keyrite: error: /);
    expect(readdirSync(path.join(env.work, 'bundles'))).toEqual(['acme-root']);
  });

  it('re-shares to a new layout: verified, old backup retired, new shares current in history', async () => {
    const file = path.join(planDir, 'plan.json');
    writeFileSync(file, JSON.stringify(plan('acme-root-reshare', v1.bundleDir), null, 2));
    const old = words(v1.sharesOut);
    writeFileSync(path.join(env.work, 'old.txt'), `# two of the three old shares\n${old[0]}\n${old[2]}\n`);
    const r = await cli('ceremony', 'reshare', '--rehearsal', '--ack-all', '--plan', file, '--out', path.join(env.work, 'bundles'), '--shares', 'old.txt', '--shares-out', newSheets(), '--pin-env', 'TEST_PIN');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    bundle = path.join(env.work, 'bundles', 'acme-root-reshare');
    const v = verifyBundle(bundle);
    expect(v.checks.filter((c) => !c.ok)).toEqual([]);
    expect(v.verdict).toBe('VALID (REHEARSAL)');
    expect(v.warnings.join('\n')).toMatch(/retired backup: the old shares \(set \d+\) still open every copy of acme-root's backup\/root.wrapped/);
    // An AES root cannot sign: the check is skipped and the bundle stays warned (only its own signer signed it).
    expect(v.checks.find((c) => c.name === 'reshare.root-signed')).toMatchObject({ status: 'skip', detail: expect.stringMatching(/^an aes-256 root cannot sign/) });
    expect(v.warnings.some((w) => w.startsWith('signers: only this ceremony'))).toBe(true);
    // Every new sheet says plainly what re-sharing cannot do (issue 15).
    const sheets = readdirSync(newSheets()).filter((f) => f.endsWith('.html'));
    expect(sheets).toHaveLength(3);
    for (const f of sheets)
      expect(readFileSync(path.join(newSheets(), f), 'utf8')).toMatch(/<p class="notice">Re-sharing cannot retire acme-root&#39;s shares \(set \d+\): old shares still open every copy of the old root.wrapped, so those copies must be destroyed.<\/p>/);
    const ev = events(bundle);
    expect(ev[0].data).toMatchObject({ kind: 'reshare', keyVersion: 1, previous: { ceremonyId: 'acme-root', statementSha256: v1.statementSha256 } });
    expect(ev.filter((e) => e.type === 'sheet.destroyed').map((e) => e.actor)).toEqual(['c1', 'c2', 'c3']);
    expect(v.checks.find((c) => c.name === 'reshare.old-sheets')?.detail).toBe('3 holder(s) of the retired set acknowledged destroying their old sheets: c1, c2, c3');
    expect(ev.find((e) => e.type === 'backup.split')!.data).toMatchObject({ groups: [{ threshold: 2, count: 3 }], shares: [{ custodian: 'd1' }, { custodian: 'd2' }, { custodian: 'd3' }] });
    // No share words in the transcript.
    const text = readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8');
    for (const w of [...old, ...words(newSheets())]) expect(text).not.toContain(w.split(' ').slice(0, 4).join(' '));

    const h = JSON.parse((await cli('history', 'bundles', '--json')).out) as HistoryResult;
    expect(h.consistent).toBe(true);
    expect(h.keys[0].ceremonies.map((c) => c.kind)).toEqual(['generate', 'reshare']);
    expect(h.keys[0].versions[0].backup).toMatchObject({ custodians: ['d1', 'd2', 'd3'], sharesCurrent: true, identifier: ev.find((e) => e.type === 'backup.split')!.data.identifier });
  });

  it('the new shares recover the root into a fresh token; the old shares do not open the new root.wrapped', () => {
    const wrapped = readFileSync(path.join(bundle, 'backup', 'root.wrapped'));
    const split = events(bundle).find((e) => e.type === 'backup.split')!.data as { kekKcv: string };
    const rootKcv = (events(v1.bundleDir).find((e) => e.type === 'key.generated')!.data as { kcv: string }).kcv;
    const fresh = words(newSheets());
    const oldKek = combineMnemonics(words(v1.sharesOut).slice(0, 2));
    expect(aesKcvSoftware(oldKek)).not.toBe(split.kekKcv);
    const newKek = combineMnemonics([fresh[1], fresh[2]]);
    expect(aesKcvSoftware(newKek)).toBe(split.kekKcv);
    const m = openModule(env.sandbox.module);
    try {
      const s = m.login({ label: 'fresh-token' }, PIN);
      try {
        const kek = s.importAesKey(Buffer.from(newKek), 'kek', { unwrap: true });
        const root = s.unwrapKwp(kek, wrapped, { algorithm: 'aes-256', label: 'restored', id: Buffer.from('01', 'hex'), asToken: true });
        expect(s.aesKcv(root.key)).toBe(rootKcv);
        const wrong = s.importAesKey(Buffer.from(oldKek), 'old-kek', { unwrap: true });
        expect(() => s.unwrapKwp(wrong, wrapped, { algorithm: 'aes-256', label: 'nope', id: Buffer.from('02', 'hex'), asToken: false })).toThrow();
      } finally {
        s.close();
      }
    } finally {
      m.close();
    }
  });

  it('a rotation may continue a re-share; the labels of every earlier version stay taken', () => {
    const raw = {
      version: 1, ceremony: 'rotate', id: 'acme-root-v2', title: 't',
      previous: { bundle: path.relative(planDir, bundle), statementSha256: statementDigest(bundle) },
      participants: [{ id: 'ada', name: 'A', role: 'administrator' }, { id: 'wes', name: 'W', role: 'witness' }, { id: 'd1', name: 'D', role: 'custodian' }],
      hsm: { module: env.sandbox.module, tokenLabel: env.tokenLabel }, key: { label: 'acme-v1', algorithm: 'ec-p256' },
      backup: { groupThreshold: 1, groups: [{ threshold: 1, custodians: ['d1'] }] },
    };
    const r = checkPlanObject(raw, planDir);
    expect(r.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      "key.label: 'acme-v1' is the label of version 1 (acme-root); a new version needs a new label",
      'key.algorithm: is ec-p256, but version 1 is aes-256; a new version of the same KMS key keeps its algorithm',
    ]);
    const ok = checkPlanObject({ ...raw, key: { label: 'acme-v2', algorithm: 'aes-256' } }, planDir);
    expect(ok.problems).toEqual([]);
    expect(ok.lifecycle).toEqual({ kind: 'rotate', keyVersion: 2, previous: { ceremonyId: 'acme-root-reshare', statementSha256: statementDigest(bundle) } });
  });

  it('the session objects of the re-share are gone from the ceremony token', () => {
    const m = openModule(env.sandbox.module);
    try {
      const s = m.login({ label: env.tokenLabel }, PIN);
      try {
        const labels = s.listObjects().map((o) => o.label);
        expect(labels.filter((l) => /reshare|kek/.test(l) || l === 'keyrite-signer:acme-root-reshare')).toEqual([]);
      } finally {
        s.close();
      }
    } finally {
      m.close();
    }
  });
});

describe('destroy after a re-share', () => {
  it("the re-share's custodians acknowledge their sheets; both wrapped backups are named as copies", async () => {
    const bundle = path.join(env.work, 'bundles', 'acme-root-reshare');
    const file = path.join(planDir, 'destroy.json');
    const p = plan('acme-root-destroy', bundle) as Record<string, unknown>;
    delete p.backup;
    writeFileSync(file, JSON.stringify({ ...p, ceremony: 'destroy', destroy: { versions: [1] } }));
    const r = await cli('ceremony', 'destroy', '--rehearsal', '--ack-all', '--plan', file, '--out', path.join(env.work, 'bundles'), '--pin-env', 'TEST_PIN');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const ev = events(path.join(env.work, 'bundles', 'acme-root-destroy'));
    expect(ev.filter((e) => e.type === 'sheet.destroyed').map((e) => e.actor)).toEqual(['d1', 'd2', 'd3']);
    const cert = ev.find((e) => e.type === 'destruction.certified')!.data as { copiesRemaining: { where: string }[] };
    expect(cert.copiesRemaining.map((c) => c.where)).toEqual(['bundle acme-root-reshare: backup/root.wrapped', 'bundle acme-root: backup/root.wrapped']);
    const h = JSON.parse((await cli('history', 'bundles', '--json')).out) as HistoryResult;
    expect(h.consistent).toBe(true);
    expect(h.keys[0].versions.map((v) => [v.version, v.state, v.backup?.sharesCurrent])).toEqual([[1, 'destroyed', false]]);
  });
});

describe('re-share of a root that can sign (ec-p256)', () => {
  it('the unwrapped root signs the statement (role root): reshare.root-signed passes, no signers warning, no root session object left', async () => {
    const out = path.join(env.work, 'ec-bundles');
    const ec = await runLifecycle(env, { id: 'acme-ec', algorithm: 'ec-p256', label: 'acme-ec-v1', outDir: out });
    const file = path.join(planDir, 'ec.json');
    writeFileSync(file, JSON.stringify(plan('acme-ec-reshare', ec.bundleDir)));
    const old = words(ec.sharesOut);
    writeFileSync(path.join(env.work, 'ec-old.txt'), `${old[0]}\n${old[1]}\n`);
    const r = await cli('ceremony', 'reshare', '--rehearsal', '--ack-all', '--plan', file, '--out', out, '--shares', 'ec-old.txt', '--shares-out', path.join(env.work, 'ec-new-sheets'), '--pin-env', 'TEST_PIN');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const bundle = path.join(out, 'acme-ec-reshare');
    const v = verifyBundle(bundle);
    expect(v.checks.filter((c) => !c.ok)).toEqual([]);
    expect(v.verdict).toBe('VALID (REHEARSAL)');
    const rootSha = (events(ec.bundleDir).find((e) => e.type === 'key.generated')!.data as { publicKey: { sha256: string } }).publicKey.sha256;
    expect(v.checks.find((c) => c.name === 'reshare.root-signed')).toMatchObject({ status: 'pass', detail: expect.stringContaining("per acme-ec's key.generated") });
    const env2 = JSON.parse(readFileSync(path.join(bundle, 'transcript.dsse.json'), 'utf8')) as { signatures: { keyid: string }[] };
    expect(env2.signatures.map((x) => x.keyid)).toContain(rootSha);
    expect(v.warnings.some((w) => w.startsWith('signers:'))).toBe(false);

    // A forger holding the previous bundle names a key of their own as the root and signs with it: the
    // root is taken from acme-ec's key.generated (beside it, by the link), so the re-share is INVALID.
    const forged = path.join(out, 'acme-ec-reshare-forged');
    cpSync(bundle, forged, { recursive: true });
    const fake = softwareSigner('root', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const ceremony = softwareSigner('ceremony', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey);
    rmSync(path.join(forged, 'transcript.dsse.json'));
    writeSignerPublicKey(forged, fake.spki);
    writeSignerPublicKey(forged, ceremony.spki);
    const st = JSON.parse(Buffer.from((JSON.parse(readFileSync(path.join(bundle, 'transcript.dsse.json'), 'utf8')) as { payload: string }).payload, 'base64').toString()) as { predicate: PredicateBase };
    signBundle({ bundleDir: forged, predicateType: CEREMONY_PREDICATE_TYPE, predicate: { ...st.predicate, root: { ...st.predicate.root, publicKeySha256: keyidOf(fake.spki) } }, signers: [ceremony, fake] });
    const f = verifyBundle(forged);
    expect(f.verdict).toBe('INVALID');
    expect(f.checks.find((c) => c.name === 'reshare.root-signed')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^the statement names root [0-9a-f]{12}.*, not acme-ec's key.generated's /) });
    const m = openModule(env.sandbox.module);
    try {
      const s = m.login({ label: env.tokenLabel }, PIN);
      try {
        expect(s.listObjects().map((o) => o.label).filter((l) => l.includes('acme-ec-reshare'))).toEqual([]);
      } finally {
        s.close();
      }
    } finally {
      m.close();
    }
  }, 120_000);
});
