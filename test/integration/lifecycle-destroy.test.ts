/**
 * A key's whole life on SoftHSM (docs/lifecycle.md): generate version 1 (exported to a stand-in
 * Vault), rotate to version 2, destroy version 1 with `keyrite ceremony destroy`. Version 1 is gone
 * from the token (a find returns nothing) and version 2 is not touched; the bundle verifies with the
 * destruction checks, its certificate names the KMS export and the old wrapped backup as places a
 * copy may remain; the custodians' sheet acknowledgements are recorded; `keyrite history` shows
 * v1 destroyed and v2 active. Bad destroy plans are refused before the token is touched.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../electron/cli/keyrite.ts';
import { loadPlan } from '../../electron/core/ceremony/plan.ts';
import { openModule } from '../../electron/core/hsm/index.ts';
import { checkDestroyPlan } from '../../electron/core/lifecycle/destroy-plan.ts';
import { statementDigest } from '../../electron/core/lifecycle/facts.ts';
import type { HistoryResult } from '../../electron/core/lifecycle/history.ts';
import { readTranscript } from '../../electron/core/transcript/read.ts';
import { verifyBundle } from '../../electron/core/verify/index.ts';
import { captureIO, makeTokenEnv, PIN, type TokenEnv } from '../helpers/ceremony-fixture.ts';
import { standInKms } from '../helpers/kms-standin.ts';
import { runLifecycle } from '../helpers/lifecycle-fixture.ts';

let env: TokenEnv;
let v1: { bundleDir: string; statementSha256: string };
let v2: { bundleDir: string; statementSha256: string };
let planDir: string;

const vault = standInKms(2048);

function destroyPlan(o: { id: string; previous: string; versions: number[]; custodians?: string[] }): Record<string, unknown> {
  return {
    version: 1,
    ceremony: 'destroy',
    id: o.id,
    title: 'Destroy the old root',
    previous: { bundle: path.relative(planDir, o.previous), statementSha256: statementDigest(o.previous) },
    participants: [
      { id: 'ada', name: 'Ada Admin', role: 'administrator' },
      { id: 'wes', name: 'Wes Witness', role: 'witness' },
      { id: 'wendy', name: 'Wendy Witness', role: 'witness' },
      ...(o.custodians ?? ['c1', 'c2', 'c3']).map((c) => ({ id: c, name: `Custodian ${c}`, role: 'custodian' })),
    ],
    hsm: { module: env.sandbox.module, tokenLabel: env.tokenLabel },
    destroy: { versions: o.versions },
    steps: [{ id: 'witness', text: 'The witnesses watch the key be destroyed.', ackBy: ['wes'] }],
  };
}

async function cli(...argv: string[]) {
  const io = captureIO({ env: { ...process.env, TEST_PIN: PIN }, cwd: env.work });
  const code = await main(argv, io);
  return { code, out: io.out.join(''), err: io.err.join('') };
}

const onToken = (label: string) => {
  const m = openModule(env.sandbox.module);
  try {
    const s = m.login({ label: env.tokenLabel }, PIN);
    try {
      return s.findObjects({ label }).length;
    } finally {
      s.close();
    }
  } finally {
    m.close();
  }
};

beforeAll(async () => {
  env = makeTokenEnv('ceremony-token', ['wes-card', 'wendy-card']);
  // Each witness's own co-signing key, on their own token.
  for (const card of ['wes-card', 'wendy-card']) {
    const m = openModule(env.sandbox.module);
    try {
      const s = m.login({ label: card }, PIN);
      s.generateSignerKey(`${card}-key`, Buffer.from(card));
      s.close();
    } finally {
      m.close();
    }
  }
  planDir = path.join(env.work, 'destroy-plan');
  mkdirSync(planDir, { recursive: true });
  v1 = await runLifecycle(env, {
    id: 'acme-root', algorithm: 'ec-p256', label: 'acme-v1', files: { 'vault.pem': vault.spkiPem },
    exports: [{ name: 'vault', kind: 'vault-transit', wrappingKey: 'vault.pem', hashFunction: 'SHA1', type: 'ecdsa-p256', keyName: 'root' }],
  });
  v2 = await runLifecycle(env, { id: 'acme-root-v2', algorithm: 'ec-p256', label: 'acme-v2', ceremony: 'rotate', previous: v1.bundleDir });
}, 180_000);

afterAll(() => {
  env?.sandbox.dispose();
  if (env) rmSync(env.work, { recursive: true, force: true });
});

describe('destroy plans are checked before any token is touched', () => {
  it('a version that is not in the lineage, a missing custodian, a destroy plan given to ceremony run', () => {
    const probs = (raw: Record<string, unknown>) => checkDestroyPlan(raw, planDir).problems.map((p) => `${p.path}: ${p.message}`);
    expect(probs(destroyPlan({ id: 'acme-root-d', previous: v2.bundleDir, versions: [1] }))).toEqual([]);
    expect(probs(destroyPlan({ id: 'acme-root-d', previous: v2.bundleDir, versions: [3] }))).toEqual([expect.stringMatching(/^destroy.versions\[0\]: version 3 is not in the lineage/)]);
    expect(probs(destroyPlan({ id: 'acme-root-d', previous: v2.bundleDir, versions: [1], custodians: ['c1', 'c2'] }))).toEqual([
      expect.stringMatching(/^participants: 'c3' held a share of version 1 \(acme-root\) and must be a custodian of this plan/),
    ]);
    expect(probs({ ...destroyPlan({ id: 'acme-root-d', previous: v2.bundleDir, versions: [1] }), key: {} })).toEqual(["(plan): unknown key 'key'"]);
    const file = path.join(planDir, 'wrong-runner.json');
    writeFileSync(file, JSON.stringify(destroyPlan({ id: 'acme-root-d', previous: v2.bundleDir, versions: [1] })));
    // The engine behind `ceremony run` refuses it at plan load.
    expect(() => loadPlan(file)).toThrow(/ceremony: a destroy plan is run with 'keyrite ceremony destroy'/);
    expect(onToken('acme-v1')).toBeGreaterThan(0);
  });
});

describe('generate → rotate → destroy version 1', () => {
  let bundle: string;
  let out: string;
  beforeAll(async () => {
    const file = path.join(planDir, 'plan.json');
    writeFileSync(file, JSON.stringify(destroyPlan({ id: 'acme-root-destroy-v1', previous: v2.bundleDir, versions: [1] }), null, 2));
    // The destroy bundle goes next to the others, so that the key's bundles stay side by side.
    const r = await cli('ceremony', 'destroy', '--plan', file, '--out', path.join(env.work, 'bundles'), '--pin-env', 'TEST_PIN', '--rehearsal', '--ack-all');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    out = r.out;
    bundle = path.join(env.work, 'bundles', 'acme-root-destroy-v1');
  }, 120_000);

  it('version 1 is gone from the token, version 2 is still there, no signer of version 1 or of the destruction remains', () => {
    expect(onToken('acme-v1')).toBe(0);
    expect(onToken('acme-v2')).toBeGreaterThan(0);
    expect(onToken('keyrite-signer:acme-root')).toBe(0);
    expect(onToken('keyrite-signer:acme-root-destroy-v1')).toBe(0);
  });

  it('the transcript: link, sheets acknowledged by each custodian, the version destroyed and found gone, the certificate', () => {
    const events = readTranscript(readFileSync(path.join(bundle, 'transcript.jsonl'))).events;
    expect(events[0].data).toMatchObject({ kind: 'destroy', keyVersion: 2, previous: { ceremonyId: 'acme-root-v2', statementSha256: v2.statementSha256 } });
    expect(events.find((e) => e.type === 'hsm.selected')!.data).toMatchObject({ token: { label: env.tokenLabel, serialNumber: env.serial, selectedBy: 'label' } });
    expect(events.filter((e) => e.type === 'participant.checked-in').map((e) => e.actor)).toEqual(['ada', 'wes', 'wendy', 'c1', 'c2', 'c3']);
    expect(events.filter((e) => e.type === 'sheet.destroyed').map((e) => [e.actor, (e.data as { shares: { version: number }[] }).shares.map((s) => s.version)])).toEqual([
      ['c1', [1]], ['c2', [1]], ['c3', [1]],
    ]);
    const destroyed = events.find((e) => e.type === 'version.destroyed')!.data;
    expect(destroyed).toMatchObject({ version: 1, label: 'acme-v1', ceremonyId: 'acme-root', objects: 2, remaining: 0 });
    const cert = events.find((e) => e.type === 'destruction.certified')!.data as { copiesRemaining: { where: string }[] };
    expect(cert.copiesRemaining.map((c) => c.where)).toEqual(["KMS export 'vault' (vault-transit)", 'bundle acme-root: backup/root.wrapped']);
    expect(out).toContain("Copy may remain: KMS export 'vault' (vault-transit)");
  });

  it('verify: VALID (REHEARSAL) with the destruction checks; the statement is a destruction statement', () => {
    const r = verifyBundle(bundle);
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.verdict).toBe('VALID (REHEARSAL)');
    expect(r.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['destruction.versions', 'destruction.sheets', 'destruction.certified', 'signatures.verify']));
    expect(r.warnings).toContain("copy may still exist: KMS export 'vault' (vault-transit)");
    const env2 = JSON.parse(readFileSync(path.join(bundle, 'transcript.dsse.json'), 'utf8'));
    const st = JSON.parse(Buffer.from(env2.payload, 'base64').toString());
    expect(st.predicateType).toBe('urn:keyrite:destruction:v1');
    expect(st.predicate.ceremonySigner.oneTime).toBe(true);
  });

  it('verify --policy: the policy rules apply to a destruction too', async () => {
    const policy = (o: Record<string, unknown>) => {
      const f = path.join(env.work, `policy-${Object.keys(o).join('-')}.json`);
      writeFileSync(f, JSON.stringify({ version: 1, ...o }));
      return f;
    };
    const ok = await cli('verify', bundle, '--policy', policy({ rehearsal: true, checkedIn: true, networkUp: true, sealed: true, ceremonyId: 'acme-root-destroy-v1' }));
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    const strict = await cli('verify', bundle, '--policy', policy({ rehearsal: false }));
    expect(strict.code).toBe(1);
    expect(strict.err).toMatch(/policy\.rehearsal/);
    const other = await cli('verify', bundle, '--policy', policy({ statementSha256: v2.statementSha256 }));
    expect(other.code).toBe(1);
  });

  it('two witnesses co-sign the certificate of destruction with their own tokens; verify checks both', async () => {
    for (const [who, card] of [['wes', 'wes-card'], ['wendy', 'wendy-card']]) {
      const r = await cli('ceremony', 'cosign', bundle, '--as', who, '--module', env.sandbox.module, '--token', card, '--pin-env', 'TEST_PIN');
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
    }
    const v = verifyBundle(bundle);
    expect(v.verdict).toBe('VALID (REHEARSAL)');
    expect(v.checks.find((c) => c.name === 'cosignatures')).toMatchObject({ status: 'pass' });
    expect(JSON.parse(readFileSync(path.join(bundle, 'transcript.dsse.json'), 'utf8')).signatures).toHaveLength(3);
    expect(readdirSync(path.join(bundle, 'cosignatures'))).toHaveLength(2);
  });

  it('a tampered certificate does not verify', () => {
    const tampered = path.join(env.work, 'tampered-destroy');
    mkdirSync(tampered);
    const t = readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8');
    for (const f of ['plan.json', 'transcript.dsse.json']) writeFileSync(path.join(tampered, f), readFileSync(path.join(bundle, f)));
    mkdirSync(path.join(tampered, 'keys'));
    writeFileSync(path.join(tampered, 'transcript.jsonl'), t.replace('"remaining":0', '"remaining":1'));
    expect(verifyBundle(tampered).valid).toBe(false);
  });

  it('history: v1 destroyed (shares retired, the export named), v2 active, three ceremonies in one line', async () => {
    const r = await cli('history', 'bundles', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const h = JSON.parse(r.out) as HistoryResult;
    expect(h.keys).toHaveLength(1);
    expect(h.keys[0].ceremonies.map((c) => [c.ceremonyId, c.kind, c.previous?.link])).toEqual([
      ['acme-root', 'generate', undefined],
      ['acme-root-v2', 'rotate', 'ok'],
      ['acme-root-destroy-v1', 'destroy', 'ok'],
    ]);
    expect(h.keys[0].versions.map((v) => [v.version, v.state, v.destroyedBy, v.backup?.sharesCurrent])).toEqual([
      [1, 'destroyed', 'acme-root-destroy-v1', false],
      [2, 'active', undefined, true],
    ]);
    expect(h.keys[0].versions[0].exports).toEqual([{ target: 'vault', kind: 'vault-transit', algorithm: expect.any(String), destination: 'transit/keys/root', ceremonyId: 'acme-root' }]);
    expect(h.keys[0].versions[0].copiesRemaining).toContain("KMS export 'vault' (vault-transit)");
    const text = await cli('history', 'bundles');
    expect(text.out).toContain("v1 'acme-v1' (ec-p256, SHA-256 ");
    expect(text.out).toMatch(/export vault: vault-transit \S+ to transit\/keys\/root \(ceremony acme-root\)/);
    expect(text.out).toMatch(/v1 .*: DESTROYED, generated by acme-root, destroyed by acme-root-destroy-v1/);
  });

  it('destroying version 1 again is refused: it was already destroyed', () => {
    const probs = checkDestroyPlan(destroyPlan({ id: 'acme-root-d2', previous: bundle, versions: [1] }), planDir).problems;
    expect(probs.map((p) => `${p.path}: ${p.message}`)).toEqual(['destroy.versions[0]: version 1 was already destroyed (acme-root-destroy-v1)']);
  });
});

describe('keyrite plan check', () => {
  it('checks a destroy plan with its own rules, and names a rotation', async () => {
    const good = path.join(planDir, 'check-good.json');
    writeFileSync(good, JSON.stringify(destroyPlan({ id: 'acme-root-d3', previous: v2.bundleDir, versions: [2] })));
    const r = await cli('plan', 'check', good);
    expect(r.err).toBe('');
    expect(r.out).toBe(`${good}: destroy plan 'acme-root-d3' is valid (destroys version 2 'acme-v2' of acme-root-v2)\n`);
    const bad = path.join(planDir, 'check-bad.json');
    writeFileSync(bad, JSON.stringify(destroyPlan({ id: 'acme-root-d3', previous: v2.bundleDir, versions: [7] })));
    const b = await cli('plan', 'check', bad);
    expect(b.code).toBe(2);
    expect(b.out).toMatch(/destroy.versions\[0\]: version 7 is not in the lineage/);
    const rotate = await cli('plan', 'check', path.join(env.work, 'acme-root-v2-plan', 'plan.json'));
    expect(rotate.out).toMatch(/plan 'acme-root-v2' is valid \(rotation to version 2 of acme-root, ec-p256 root 'acme-v2'/);
  });
});
