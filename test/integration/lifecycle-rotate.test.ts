/**
 * Rotation on SoftHSM (docs/lifecycle.md): a generate ceremony, then a rotate plan linked to it by
 * its statement digest. The link is checked at plan load (a wrong digest, a missing bundle, an
 * absolute path, a reused label are refused before any HSM is opened), recorded in
 * ceremony.started, and each export's README gives the KMS's command for a new version of the same
 * key; a stand-in KMS unwraps the rotated export and finds version 2's key.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPlanObject, loadPlan, PlanError } from '../../electron/core/ceremony/plan.ts';
import { readBundleFacts } from '../../electron/core/lifecycle/facts.ts';
import { buildHistory } from '../../electron/core/lifecycle/history.ts';
import { verifyBundle } from '../../electron/core/verify/index.ts';
import { makeTokenEnv, type TokenEnv } from '../helpers/ceremony-fixture.ts';
import { kcv, standInKms, unwrapRsaAes } from '../helpers/kms-standin.ts';
import { runLifecycle, writeLifecyclePlan } from '../helpers/lifecycle-fixture.ts';

let env: TokenEnv;
let v1: { bundleDir: string; statementSha256: string };

const aws = standInKms(2048);
const gcp = standInKms(3072);
const azure = standInKms(3072);
const vault = standInKms(4096);
const KMS_FILES = {
  'aws-wrap.der': aws.spkiDer,
  'ImportToken.bin': Buffer.from('opaque AWS import token'),
  'gcp.pem': gcp.spkiPem,
  'azure-kek.pem': azure.spkiPem,
  'vault.pem': vault.spkiPem,
};
const EXPORTS = [
  { name: 'aws', kind: 'aws-kms', wrappingKey: 'aws-wrap.der', importToken: 'ImportToken.bin', algorithm: 'RSA_AES_KEY_WRAP_SHA_1', keyId: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd', region: 'eu-west-1' },
  { name: 'gcp', kind: 'gcp-kms', wrappingKey: 'gcp.pem', algorithm: 'RSA_OAEP_3072_SHA1_AES_256', keyRing: 'ring', key: 'root', location: 'europe-west1', importJob: 'job-2' },
  { name: 'azure', kind: 'azure-byok', wrappingKey: 'azure-kek.pem', kid: 'https://contoso.managedhsm.azure.net/keys/KEK/0123', vaultName: 'contoso', keyName: 'root' },
  { name: 'vault', kind: 'vault-transit', wrappingKey: 'vault.pem', hashFunction: 'SHA1', type: 'aes256-gcm96', keyName: 'root' },
];

beforeAll(async () => {
  env = makeTokenEnv();
  v1 = await runLifecycle(env, { id: 'acme-root', algorithm: 'aes-256', label: 'acme-root-v1' });
}, 120_000);

afterAll(() => {
  env?.sandbox.dispose();
  if (env) rmSync(env.work, { recursive: true, force: true });
});

describe('the plan link', () => {
  it('a generate bundle records kind generate and version 1, and no previous', () => {
    const f = readBundleFacts(v1.bundleDir)!;
    expect(f).toMatchObject({ kind: 'generate', keyVersion: 1, previous: undefined });
  });

  it('a rotate plan is refused when the digest is not the previous bundle\'s, naming both', () => {
    const file = writeLifecyclePlan(env, { id: 'bad-digest', algorithm: 'aes-256', label: 'x-v2', ceremony: 'rotate', previous: v1.bundleDir, previousDigest: 'ab'.repeat(32) });
    expect(() => loadPlan(file)).toThrow(PlanError);
    try {
      loadPlan(file);
    } catch (err) {
      const p = (err as PlanError).problems.find((x) => x.path === 'previous.statementSha256');
      expect(p?.message).toContain('ab'.repeat(32));
      expect(p?.message).toContain(v1.statementSha256);
    }
  });

  it('refuses a missing previous, an absolute path, a folder that is not there, and a reused label', () => {
    const planDir = path.join(env.work, 'x-plan');
    const base = { version: 1, id: 'acme-root-v2', title: 't', participants: [{ id: 'ada', name: 'A', role: 'administrator' }, { id: 'wes', name: 'W', role: 'witness' }, { id: 'c1', name: 'C', role: 'custodian' }],
      hsm: { module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 't' }, key: { label: 'acme-root-v1', algorithm: 'aes-256' },
      backup: { groupThreshold: 1, groups: [{ threshold: 1, custodians: ['c1'] }] } };
    const probs = (raw: unknown) => checkPlanObject(raw, planDir).problems.map((p) => `${p.path}: ${p.message}`);
    expect(probs({ ...base, ceremony: 'rotate' })).toEqual([expect.stringMatching(/^previous: is required for a rotate ceremony/)]);
    expect(probs({ ...base, ceremony: 'rotate', previous: { bundle: v1.bundleDir, statementSha256: v1.statementSha256 } })).toEqual([expect.stringMatching(/^previous.bundle: is an absolute path/)]);
    expect(probs({ ...base, ceremony: 'rotate', previous: { bundle: '../nope', statementSha256: v1.statementSha256 } })).toEqual(['previous.bundle: ../nope does not exist']);
    const rel = path.relative(planDir, v1.bundleDir);
    expect(probs({ ...base, ceremony: 'rotate', previous: { bundle: rel, statementSha256: v1.statementSha256 } })).toEqual([expect.stringMatching(/^key.label: 'acme-root-v1' is the label of version 1/)]);
    expect(probs({ ...base, key: { ...base.key, label: 'n', version: 1 }, ceremony: 'rotate', previous: { bundle: rel, statementSha256: v1.statementSha256 } })).toEqual([expect.stringMatching(/^key.version: is 1, but .* already has version 1/)]);
    expect(probs({ ...base, ceremony: 'generate', previous: { bundle: rel, statementSha256: v1.statementSha256 } })).toEqual([expect.stringMatching(/^previous: a generate ceremony/)]);
    expect(probs({ ...base, ceremony: 'reshare', previous: { bundle: rel, statementSha256: v1.statementSha256 } })).toEqual([expect.stringMatching(/^ceremony: a re-share plan is run with 'keyrite ceremony reshare'/)]);
    expect(probs({ ...base, ceremony: 'turn' })[0]).toMatch(/^ceremony: /);
  });
});

describe('rotate', () => {
  let v2: { bundleDir: string; statementSha256: string };
  beforeAll(async () => {
    v2 = await runLifecycle(env, { id: 'acme-root-v2', algorithm: 'aes-256', label: 'acme-root-v2', ceremony: 'rotate', previous: v1.bundleDir, files: KMS_FILES, exports: EXPORTS });
  }, 120_000);

  it('records the link, the kind and version 2 in ceremony.started, and verifies', () => {
    const f = readBundleFacts(v2.bundleDir)!;
    expect(f.kind).toBe('rotate');
    expect(f.keyVersion).toBe(2);
    expect(f.previous).toEqual({ ceremonyId: 'acme-root', statementSha256: v1.statementSha256 });
    expect(f.generated?.label).toBe('acme-root-v2');
    expect(verifyBundle(v2.bundleDir).valid).toBe(true);
  });

  it("each README gives the KMS's command for a new version of the same key", () => {
    const readme = (n: string) => readFileSync(path.join(v2.bundleDir, 'exports', n, 'README.txt'), 'utf8');
    for (const n of ['aws', 'gcp', 'azure', 'vault']) expect(readme(n)).toContain("This is version 2 of the key; it continues ceremony 'acme-root'");
    expect(readme('aws')).toContain('--import-type NEW_KEY_MATERIAL');
    expect(readme('aws')).toContain('aws kms rotate-key-on-demand --key-id arn:aws:kms:eu-west-1:111122223333:key/1234abcd --region eu-west-1');
    expect(readme('gcp')).toContain('gcloud kms keys versions import --import-job job-2');
    expect(readme('gcp')).toContain('--primary-version');
    expect(readme('azure')).toContain('az keyvault key import --hsm-name contoso --name root');
    expect(readme('vault')).toContain('vault write transit/keys/root/import_version @import.json');
  });

  it('history names where each export went', () => {
    const h = buildHistory([v1.bundleDir, v2.bundleDir].map((dir) => ({ dir, shown: path.basename(dir) })));
    expect(h.consistent).toBe(true);
    expect(h.keys[0].versions[1].exports.map((e) => [e.target, e.destination])).toEqual([
      ['aws', 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd, region eu-west-1'],
      ['gcp', 'projects/…/locations/europe-west1/keyRings/ring/cryptoKeys/root, import job job-2'],
      ['azure', 'vault contoso, key root'],
      ['vault', 'transit/keys/root'],
    ]);
  });

  it('the stand-in KMSs unwrap version 2, not version 1', () => {
    const gen = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'transcript.jsonl'), 'utf8').split('\n').find((l) => l.includes('"key.generated"'))!).data.kcv;
    const k2 = gen(v2.bundleDir);
    expect(k2).not.toBe(gen(v1.bundleDir));
    const ex = (n: string, f: string) => readFileSync(path.join(v2.bundleDir, 'exports', n, f));
    expect(kcv(unwrapRsaAes(aws, ex('aws', 'EncryptedKeyMaterial.bin'), 'sha1').material)).toBe(k2);
    expect(kcv(unwrapRsaAes(gcp, ex('gcp', 'wrapped-key.bin'), 'sha1').material)).toBe(k2);
    expect(kcv(unwrapRsaAes(azure, Buffer.from(JSON.parse(ex('azure', 'azure.byok').toString()).ciphertext, 'base64url'), 'sha1').material)).toBe(k2);
    expect(kcv(unwrapRsaAes(vault, Buffer.from(JSON.parse(ex('vault', 'import.json').toString()).ciphertext, 'base64'), 'sha1').material)).toBe(k2);
  });
});
