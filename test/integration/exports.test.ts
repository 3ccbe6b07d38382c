/**
 * KMS exports against a real SoftHSM token: every kind × algorithm × root type SoftHSM 2.6 can do
 * (OAEP with SHA-1 only). A stand-in KMS unwraps each export the way that KMS documents, and the
 * material is shown to be the root key: same KCV (AES) or same public key (EC, RSA).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planExportSchema, type PlanExport } from '../../electron/core/ceremony/plan.ts';
import { preflightExports, probeOaepHashes, runExport } from '../../electron/core/exports/index.ts';
import { openModule, type HsmModule, type HsmSession, type RootAlgorithm, type RootKey } from '../../electron/core/hsm/index.ts';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import { planFiles, type PlanFiles } from '../../electron/core/ceremony/plan-files.ts';
import { pinTarget } from '../helpers/plan-pins.ts';
import { APP_VERSION } from '../../electron/core/version.ts';
import {
  aesCmac,
  kcv,
  oaepDecrypt,
  pkcs8FromMaterial,
  spkiOfPkcs8,
  standInKms,
  unwrapRsaAes,
  type Hash,
  type StandInKms,
} from '../helpers/kms-standin.ts';

const PIN = '123456';
let sandbox: SoftHsmSandbox;
let mod: HsmModule;
let session: HsmSession;
let work: string;
const roots = new Map<RootAlgorithm, RootKey>();

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

beforeAll(() => {
  sandbox = createSoftHsmSandbox();
  process.env.SOFTHSM2_CONF = sandbox.confPath;
  sandbox.initToken('exports', PIN);
  mod = openModule(sandbox.module);
  session = mod.login({ label: 'exports' }, PIN);
  work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-exports-'));
  // The KMS side hands out keys: DER for AWS, PEM for the others (as the KMSs do).
  writeFileSync(path.join(work, 'aws-wrap.der'), standInKms(2048).spkiDer);
  writeFileSync(path.join(work, 'ImportToken.bin'), Buffer.from('opaque AWS import token \x00\x01\x02'));
  writeFileSync(path.join(work, 'gcp-3072.pem'), standInKms(3072).spkiPem);
  writeFileSync(path.join(work, 'gcp-4096.pem'), standInKms(4096).spkiPem);
  writeFileSync(path.join(work, 'azure-kek.pem'), standInKms(3072).spkiPem);
  writeFileSync(path.join(work, 'vault-wrap.pem'), standInKms(4096).spkiPem);
  // One root of each type, generated once.
  for (const alg of ['aes-256', 'ec-p256', 'ec-p384', 'rsa-3072'] as const) {
    roots.set(alg, session.generateRootKey(alg, `root-${alg}`, Buffer.from(alg)));
  }
});

afterAll(() => {
  session?.close();
  mod?.close();
  sandbox?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

const VAULT_TYPE: Record<string, string> = { 'aes-256': 'aes256-gcm96', 'ec-p256': 'ecdsa-p256', 'ec-p384': 'ecdsa-p384', 'rsa-3072': 'rsa-3072' };

interface Case {
  title: string;
  target: (root: RootAlgorithm) => Record<string, unknown>;
  roots: RootAlgorithm[];
  kms: () => StandInKms;
  hash: Hash;
  direct?: boolean;
  /** The file holding the ciphertext and how to read it. */
  ciphertext: (dir: string, name: string) => Buffer;
}

const bin = (file: string) => (dir: string) => readFileSync(path.join(dir, file));
const ALL: RootAlgorithm[] = ['aes-256', 'ec-p256', 'ec-p384', 'rsa-3072'];

const CASES: Case[] = [
  {
    title: 'aws-kms RSA_AES_KEY_WRAP_SHA_1',
    target: () => ({ kind: 'aws-kms', wrappingKey: 'aws-wrap.der', importToken: 'ImportToken.bin', algorithm: 'RSA_AES_KEY_WRAP_SHA_1', keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', region: 'eu-west-1' }),
    roots: ALL,
    kms: () => standInKms(2048),
    hash: 'sha1',
    ciphertext: bin('EncryptedKeyMaterial.bin'),
  },
  {
    title: 'aws-kms RSAES_OAEP_SHA_1 (direct)',
    target: () => ({ kind: 'aws-kms', wrappingKey: 'aws-wrap.der', importToken: 'ImportToken.bin', algorithm: 'RSAES_OAEP_SHA_1' }),
    roots: ['aes-256'],
    kms: () => standInKms(2048),
    hash: 'sha1',
    direct: true,
    ciphertext: bin('EncryptedKeyMaterial.bin'),
  },
  {
    title: 'gcp-kms RSA_OAEP_3072_SHA1_AES_256',
    target: () => ({ kind: 'gcp-kms', wrappingKey: 'gcp-3072.pem', algorithm: 'RSA_OAEP_3072_SHA1_AES_256', keyRing: 'ring', key: 'root', location: 'europe-west1', importJob: 'job-1' }),
    roots: ALL,
    kms: () => standInKms(3072),
    hash: 'sha1',
    ciphertext: bin('wrapped-key.bin'),
  },
  {
    title: 'gcp-kms RSA_OAEP_4096_SHA1_AES_256',
    target: () => ({ kind: 'gcp-kms', wrappingKey: 'gcp-4096.pem', algorithm: 'RSA_OAEP_4096_SHA1_AES_256' }),
    roots: ['aes-256', 'ec-p384'],
    kms: () => standInKms(4096),
    hash: 'sha1',
    ciphertext: bin('wrapped-key.bin'),
  },
  {
    title: 'azure-byok CKM_RSA_AES_KEY_WRAP',
    target: () => ({ kind: 'azure-byok', wrappingKey: 'azure-kek.pem', kid: 'https://contoso.vault.azure.net/keys/KEKforBYOK/0123456789abcdef', vaultName: 'contoso', keyName: 'root' }),
    roots: ALL,
    kms: () => standInKms(3072),
    hash: 'sha1',
    ciphertext: (dir, name) => Buffer.from(JSON.parse(readFileSync(path.join(dir, `${name}.byok`), 'utf8')).ciphertext, 'base64url'),
  },
  {
    title: 'vault-transit SHA1',
    target: (root) => ({ kind: 'vault-transit', wrappingKey: 'vault-wrap.pem', hashFunction: 'SHA1', type: VAULT_TYPE[root], mount: 'kms-transit' }),
    roots: ALL,
    kms: () => standInKms(4096),
    hash: 'sha1',
    ciphertext: (dir) => Buffer.from(JSON.parse(readFileSync(path.join(dir, 'import.json'), 'utf8')).ciphertext, 'base64'),
  },
];

/** The plan folder's files, each read once (as at plan load), shared by preflight and export. */
const files = () => (filesOnce ??= planFiles(work));
let filesOnce: PlanFiles | undefined;
let counter = 0;

function exportOnce(c: Case, alg: RootAlgorithm) {
  const name = `t${++counter}-${alg}`;
  const target = planExportSchema.parse(pinTarget(work, { name, ...c.target(alg) })) as PlanExport;
  const bundleDir = path.join(work, `bundle-${name}`);
  mkdirSync(bundleDir);
  const checks = preflightExports({ exports: [target] }, { files: files() }, {
    rootAlgorithm: alg,
    mechanisms: mod.mechanisms({ label: 'exports' }),
    tokenLabel: session.token.label,
    tokenManufacturer: session.token.manufacturer,
    oaepHashes: probeOaepHashes(session),
  });
  expect(checks.every((x) => x.ok), checks.map((x) => x.detail).join('\n')).toBe(true);
  const before = session.listObjects().length;
  const { eventData } = runExport(session, roots.get(alg)!, target, { files: files(), bundleDir, rootAlgorithm: alg, rootLabel: `root-${alg}`, appVersion: APP_VERSION });
  // The wrapping key and the ephemeral key were session objects, destroyed again.
  expect(session.listObjects().length).toBe(before);
  return { name, target, bundleDir, dir: path.join(bundleDir, 'exports', name), eventData };
}

/** The unwrapped material is the root key itself. */
function expectRootMaterial(alg: RootAlgorithm, material: Buffer, zeroPadsInput = false) {
  const root = roots.get(alg)!;
  if (alg === 'aes-256') {
    expect(material.length).toBe(32);
    expect(kcv(material)).toBe(session.aesKcv(root.key));
  } else {
    const { der, trailing } = pkcs8FromMaterial(material);
    // SoftHSM's CKM_AES_KEY_WRAP_PAD zero-pads the DER to a multiple of 8 (docs/exports.md).
    if (zeroPadsInput) expect(der.length + trailing.length).toBe(Math.ceil(der.length / 8) * 8);
    else expect(trailing.length).toBe(0);
    expect(spkiOfPkcs8(der).equals(session.publicKeySpki(root.publicKey ?? root.key))).toBe(true);
  }
}

describe('software AES-CMAC helper', () => {
  it('matches the NIST SP 800-38B AES-256 example', () => {
    const key = Buffer.from('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4', 'hex');
    expect(aesCmac(key, Buffer.alloc(0)).toString('hex')).toBe('028962f61b7bf89efc6b551f4667d983');
    expect(aesCmac(key, Buffer.from('6bc1bee22e409f96e93d7e117393172a', 'hex')).toString('hex')).toBe('28a7023f452e8f82bd4bf28d8c37c35c');
  });
});

describe('exports unwrap to the root key', () => {
  it('probes SoftHSM: RSA-OAEP with SHA-1 only', () => {
    expect([...probeOaepHashes(session)]).toEqual(['sha1']);
  });

  for (const c of CASES) {
    for (const alg of c.roots) {
      it(`${c.title} of an ${alg} root`, () => {
        const { name, target, bundleDir, dir, eventData } = exportOnce(c, alg);
        const kms = c.kms();
        const blob = c.ciphertext(dir, name);
        if (c.direct) {
          expect(blob.length).toBe(kms.bits / 8);
          expectRootMaterial(alg, oaepDecrypt(kms, blob, c.hash));
          expect(eventData.method).toBe('OAEP');
        } else {
          const { material } = unwrapRsaAes(kms, blob, c.hash);
          expectRootMaterial(alg, material, eventData.kwp?.zeroPadsInput);
          expect(eventData.method).toBe('two-step OAEP+KWP');
          expect(eventData.kwp?.mechanism).toMatch(/^CKM_AES_KEY_WRAP_(PAD|KWP)$/);
        }
        // export.created: target, kind, algorithm, wrapping key digest, every file with its digest.
        expect(eventData.target).toBe(name);
        expect(eventData.kind).toBe(target.kind);
        expect(eventData.wrappingKeySha256).toBe(sha256(kms.spkiDer));
        expect(eventData.oaepHash).toBe('SHA-1');
        for (const f of eventData.files) {
          expect(f.path).toMatch(new RegExp(`^exports/${name}/[^/\\\\]+$`));
          expect(sha256(readFileSync(path.join(bundleDir, f.path)))).toBe(f.sha256);
        }
        // Nothing in the folder that the transcript does not name.
        expect(readdirSync(dir).sort()).toEqual(eventData.files.map((f) => path.basename(f.path)).sort());
      });
    }
  }
});

describe('files per KMS', () => {
  it('aws-kms: EncryptedKeyMaterial.bin, ImportToken.bin as given, README with the import command', () => {
    const { dir, eventData } = exportOnce(CASES[0], 'ec-p384');
    expect(eventData.files.map((f) => path.basename(f.path))).toEqual(['EncryptedKeyMaterial.bin', 'ImportToken.bin', 'README.txt']);
    expect(readFileSync(path.join(dir, 'ImportToken.bin')).equals(readFileSync(path.join(work, 'ImportToken.bin')))).toBe(true);
    const readme = readFileSync(path.join(dir, 'README.txt'), 'utf8');
    expect(readme).toContain(
      'aws kms import-key-material --key-id 1234abcd-12ab-34cd-56ef-1234567890ab --encrypted-key-material fileb://EncryptedKeyMaterial.bin --import-token fileb://ImportToken.bin --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE --region eu-west-1',
    );
    expect(readme).toContain(eventData.wrappingKeySha256);
    expect(readme).toContain('zero-padded'); // SoftHSM's CKM_AES_KEY_WRAP_PAD on PKCS#8
    expect(eventData.algorithm).toBe('RSA_AES_KEY_WRAP_SHA_1');
  });

  it('gcp-kms: wrapped-key.bin and the gcloud command with the root key algorithm', () => {
    const { dir, eventData } = exportOnce(CASES[2], 'ec-p384');
    expect(eventData.files.map((f) => path.basename(f.path))).toEqual(['wrapped-key.bin', 'README.txt']);
    expect(readFileSync(path.join(dir, 'README.txt'), 'utf8')).toContain(
      'gcloud kms keys versions import --import-job job-1 --location europe-west1 --keyring ring --key root --algorithm ec-sign-p384-sha384 --wrapped-key-file wrapped-key.bin',
    );
    const aes = exportOnce(CASES[2], 'aes-256');
    expect(readFileSync(path.join(aes.dir, 'README.txt'), 'utf8')).toContain('--algorithm google-symmetric-encryption');
    const rsa = exportOnce(CASES[3], 'ec-p384');
    expect(readFileSync(path.join(rsa.dir, 'README.txt'), 'utf8')).toContain('--import-job <import-job> --location <location>');
  });

  it('azure-byok: the .byok file field by field, and the az command', () => {
    const { name, dir, eventData } = exportOnce(CASES[4], 'rsa-3072');
    expect(eventData.files.map((f) => path.basename(f.path))).toEqual([`${name}.byok`, 'README.txt']);
    const byok = JSON.parse(readFileSync(path.join(dir, `${name}.byok`), 'utf8'));
    expect(Object.keys(byok)).toEqual(['schema_version', 'header', 'ciphertext', 'generator']);
    expect(byok.schema_version).toBe('1.0.0');
    expect(byok.header).toEqual({ kid: 'https://contoso.vault.azure.net/keys/KEKforBYOK/0123456789abcdef', alg: 'dir', enc: 'CKM_RSA_AES_KEY_WRAP' });
    expect(byok.ciphertext).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, no padding
    expect(byok.generator).toMatch(new RegExp(`^Keyrite ${APP_VERSION.replace(/\./g, '\\.')}; SoftHSM project`));
    expect(readFileSync(path.join(dir, 'README.txt'), 'utf8')).toContain(`az keyvault key import --vault-name contoso --name root --byok-file ${name}.byok --kty RSA`);
    const ec = exportOnce(CASES[4], 'ec-p256');
    expect(readFileSync(path.join(ec.dir, 'README.txt'), 'utf8')).toContain('--kty EC --curve P-256');
    const aes = exportOnce(CASES[4], 'aes-256');
    expect(readFileSync(path.join(aes.dir, 'README.txt'), 'utf8')).toContain('az keyvault key import --hsm-name contoso --name root');
  });

  it('vault-transit: import.json field by field, and the vault write command', () => {
    const { dir, eventData } = exportOnce(CASES[5], 'ec-p256');
    expect(eventData.files.map((f) => path.basename(f.path))).toEqual(['import.json', 'README.txt']);
    const body = JSON.parse(readFileSync(path.join(dir, 'import.json'), 'utf8'));
    expect(Object.keys(body)).toEqual(['ciphertext', 'type', 'hash_function']);
    expect(body.ciphertext).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(body.ciphertext, 'base64').length).toBeGreaterThan(512);
    expect(body.type).toBe('ecdsa-p256');
    expect(body.hash_function).toBe('SHA1');
    const readme = readFileSync(path.join(dir, 'README.txt'), 'utf8');
    expect(readme).toContain(`vault write kms-transit/keys/${path.basename(dir)}/import @import.json`);
    expect(readme).toContain(`bao write kms-transit/keys/${path.basename(dir)}/import @import.json`);
  });

  it('never writes into an existing export folder', () => {
    const first = exportOnce(CASES[5], 'aes-256');
    expect(() =>
      runExport(session, roots.get('aes-256')!, first.target, { files: files(), bundleDir: first.bundleDir, rootAlgorithm: 'aes-256', rootLabel: 'root-aes-256', appVersion: APP_VERSION }),
    ).toThrow(/already exists/);
  });
});
