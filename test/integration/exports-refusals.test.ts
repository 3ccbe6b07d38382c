/**
 * Exports that cannot work are refused before any key exists: what the plan's files and root type
 * decide when the plan is loaded (exit 2, no HSM opened), what the token offers in the ceremony's
 * preflight with the real SoftHSM mechanism list (exit 1). A sealed root key cannot be exported
 * again: the token refuses.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ceremony } from '../../electron/core/ceremony/engine.ts';
import { PlanError, planExportSchema, type PlanExport } from '../../electron/core/ceremony/plan.ts';
import { OperationError } from '../../electron/core/errors.ts';
import { assertExportsPreflight, preflightExports, probeOaepHashes, runExport, type ExportsPreflightContext } from '../../electron/core/exports/index.ts';
import { HsmError, openModule, type HsmModule, type HsmSession } from '../../electron/core/hsm/index.ts';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import { APP_VERSION } from '../../electron/core/version.ts';
import { planFiles, type PlanFiles } from '../../electron/core/ceremony/plan-files.ts';
import { NO_FILE_PIN, pinExports, pinTarget } from '../helpers/plan-pins.ts';
import { pkcs8FromMaterial, spkiOfPkcs8, standInKms, unwrapRsaAes } from '../helpers/kms-standin.ts';

const PIN = '654321';
const TOKEN = 'refusals';
let sandbox: SoftHsmSandbox;
let mod: HsmModule;
let session: HsmSession;
let work: string;
let ctx: ExportsPreflightContext;
/** The plan folder's files, each read once (as at plan load). */
let files: PlanFiles;

beforeAll(() => {
  sandbox = createSoftHsmSandbox();
  process.env.SOFTHSM2_CONF = sandbox.confPath;
  sandbox.initToken(TOKEN, PIN);
  mod = openModule(sandbox.module);
  session = mod.login({ label: TOKEN }, PIN);
  work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-export-refusals-'));
  writeFileSync(path.join(work, 'wrap-2048.der'), standInKms(2048).spkiDer);
  writeFileSync(path.join(work, 'wrap-3072.pem'), standInKms(3072).spkiPem);
  writeFileSync(path.join(work, 'wrap-1024.pem'), standInKms(1024).spkiPem);
  writeFileSync(path.join(work, 'garbage.pem'), 'this is not a key\n');
  writeFileSync(path.join(work, 'private.pem'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(path.join(work, 'ec-public.pem'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }));
  writeFileSync(path.join(work, 'ImportToken.bin'), Buffer.from('token'));
  writeFileSync(path.join(work, 'empty-token.bin'), Buffer.alloc(0));
  files = planFiles(work);
  ctx = {
    rootAlgorithm: 'ec-p384',
    mechanisms: mod.mechanisms({ label: TOKEN }),
    tokenLabel: TOKEN,
    tokenManufacturer: session.token.manufacturer,
  };
});

afterAll(() => {
  session?.close();
  mod?.close();
  sandbox?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A target as the schema parses it, pinned to its files (a missing file gets a placeholder pin). */
const target = (t: Record<string, unknown>) => planExportSchema.parse(pinTarget(work, t, { missing: NO_FILE_PIN })) as PlanExport;
const aws = (extra: Record<string, unknown> = {}) =>
  target({ name: 'aws-prod', kind: 'aws-kms', wrappingKey: 'wrap-2048.der', importToken: 'ImportToken.bin', algorithm: 'RSA_AES_KEY_WRAP_SHA_1', ...extra });

/** The one-line failure of a single-target plan, from the module's own preflight. */
function failure(t: PlanExport, c: Partial<ExportsPreflightContext> = {}): string {
  try {
    assertExportsPreflight({ exports: [t] }, { files }, { ...ctx, ...c });
  } catch (err) {
    expect(err).toBeInstanceOf(OperationError);
    expect((err as OperationError).exitCode).toBe(1);
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }
  throw new Error('the preflight passed');
}

describe('exports preflight (mechanism list of a real SoftHSM token)', () => {
  it('SoftHSM is taken to do SHA-1 OAEP only, and the probe agrees', () => {
    expect(session.token.manufacturer).toBe('SoftHSM project');
    expect([...probeOaepHashes(session)]).toEqual(['sha1']);
  });

  it('refuses SHA-256 OAEP on SoftHSM, naming the SHA-1 variant that would work', () => {
    for (const c of [{}, { oaepHashes: probeOaepHashes(session) }]) {
      expect(failure(aws({ algorithm: 'RSA_AES_KEY_WRAP_SHA_256' }), c)).toBe(
        `exports[0] aws-prod: RSA_AES_KEY_WRAP_SHA_256 needs RSA-OAEP with SHA-256, which token '${TOKEN}' does not support; RSA_AES_KEY_WRAP_SHA_1 would work`,
      );
    }
    expect(failure(aws({ algorithm: 'RSAES_OAEP_SHA_256' }), { rootAlgorithm: 'aes-256' })).toMatch(/SHA-256, which token 'refusals' does not support; RSAES_OAEP_SHA_1 would work$/);
    expect(failure(target({ name: 'gcp', kind: 'gcp-kms', wrappingKey: 'wrap-3072.pem', algorithm: 'RSA_OAEP_3072_SHA256_AES_256' }))).toBe(
      `exports[0] gcp: RSA_OAEP_3072_SHA256_AES_256 needs RSA-OAEP with SHA-256, which token '${TOKEN}' does not support; RSA_OAEP_3072_SHA1_AES_256 would work`,
    );
    expect(failure(target({ name: 'gcp', kind: 'gcp-kms', wrappingKey: 'wrap-3072.pem', algorithm: 'RSA_OAEP_3072_SHA256' }), { rootAlgorithm: 'aes-256' })).toMatch(
      /RSA_OAEP_3072_SHA256 needs RSA-OAEP with SHA-256.*; RSA_OAEP_3072_SHA1_AES_256 would work$/,
    );
    expect(failure(target({ name: 'vault', kind: 'vault-transit', wrappingKey: 'wrap-3072.pem', hashFunction: 'SHA256', type: 'ecdsa-p384' }))).toMatch(
      /^exports\[0\] vault: .*needs RSA-OAEP with SHA-256, which token 'refusals' does not support; hashFunction SHA1 would work$/,
    );
  });

  it('refuses direct OAEP for a private (EC or RSA) root key', () => {
    expect(failure(aws({ algorithm: 'RSAES_OAEP_SHA_1' }))).toBe(
      'exports[0] aws-prod: RSAES_OAEP_SHA_1 wraps only AES keys directly; the ec-p384 root key is a private key and needs RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256',
    );
    expect(failure(target({ name: 'gcp', kind: 'gcp-kms', wrappingKey: 'wrap-3072.pem', algorithm: 'RSA_OAEP_3072_SHA256' }), { rootAlgorithm: 'rsa-3072' })).toBe(
      'exports[0] gcp: RSA_OAEP_3072_SHA256 wraps only AES keys directly; the rsa-3072 root key is a private key and needs RSA_OAEP_3072_SHA1_AES_256 or RSA_OAEP_3072_SHA256_AES_256',
    );
  });

  it('refuses small, malformed and non-RSA wrapping keys, naming the file', () => {
    expect(failure(aws({ wrappingKey: 'wrap-1024.pem' }))).toBe('exports[0] aws-prod: wrapping key wrap-1024.pem is RSA-1024; at least RSA-2048 is required');
    expect(failure(aws({ wrappingKey: 'garbage.pem' }))).toBe('exports[0] aws-prod: wrapping key garbage.pem is not a DER or PEM SubjectPublicKeyInfo');
    expect(failure(aws({ wrappingKey: 'private.pem' }))).toBe('exports[0] aws-prod: wrapping key private.pem is a PEM "PRIVATE KEY", not a "PUBLIC KEY" (SPKI)');
    expect(failure(aws({ wrappingKey: 'ec-public.pem' }))).toBe('exports[0] aws-prod: wrapping key ec-public.pem is not an RSA key (it is EC)');
    expect(failure(target({ name: 'gcp', kind: 'gcp-kms', wrappingKey: 'wrap-2048.der', algorithm: 'RSA_OAEP_4096_SHA1_AES_256' }))).toBe(
      'exports[0] gcp: wrapping key wrap-2048.der is RSA-2048 but RSA_OAEP_4096_SHA1_AES_256 needs RSA-4096',
    );
  });

  it('refuses a missing or empty AWS import token', () => {
    expect(failure(aws({ importToken: 'empty-token.bin' }))).toBe('exports[0] aws-prod: import token empty-token.bin is empty');
    expect(failure(aws({ importToken: 'gone.bin' }))).toBe('exports[0] aws-prod: import token file gone.bin does not exist');
  });

  it('refuses a key the KMS cannot hold', () => {
    expect(failure(target({ name: 'vault', kind: 'vault-transit', wrappingKey: 'wrap-3072.pem', hashFunction: 'SHA1', type: 'aes256-gcm96' }))).toBe(
      "exports[0] vault: Vault type 'aes256-gcm96' does not fit the ec-p384 root key (use 'ecdsa-p384')",
    );
    expect(failure(target({ name: 'azure', kind: 'azure-byok', wrappingKey: 'wrap-3072.pem', kid: 'https://v/keys/k/1' }), { rootAlgorithm: 'ed25519' })).toBe(
      'exports[0] azure: Azure Key Vault cannot import ed25519 keys',
    );
  });

  it('reports every failing target, by index, and passes good ones', () => {
    const checks = preflightExports(
      { exports: [aws(), aws({ name: 'aws-bad', wrappingKey: 'wrap-1024.pem' }), target({ name: 'vault', kind: 'vault-transit', wrappingKey: 'wrap-3072.pem', hashFunction: 'SHA1', type: 'ecdsa-p384' })] },
      { files },
      ctx,
    );
    expect(checks.map((c) => [c.name, c.ok])).toEqual([
      ['export aws-prod', true],
      ['export aws-bad', false],
      ['export vault', true],
    ]);
    expect(checks[1].detail).toMatch(/^exports\[1\] aws-bad: wrapping key wrap-1024\.pem/);
    expect(checks[0].detail).toContain('zero-pads the PKCS#8 key');
  });
});

describe('the ceremony refuses before any key is generated', () => {
  function planFile(name: string, exports: Record<string, unknown>[], algorithm = 'ec-p384'): string {
    const file = path.join(work, `${name}.plan.json`);
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        id: `refuse-${name}`,
        title: 'Export refusal',
        participants: [
          { id: 'ada', name: 'Ada', role: 'administrator' },
          { id: 'wes', name: 'Wes', role: 'witness' },
          { id: 'c1', name: 'C1', role: 'custodian' },
        ],
        hsm: { module: sandbox.module, tokenLabel: TOKEN },
        key: { label: `root-${name}`, algorithm },
        backup: { groupThreshold: 1, groups: [{ threshold: 1, custodians: ['c1'] }] },
        exports: pinExports(work, exports),
      }),
    );
    return file;
  }

  const awsPlan = (extra: Record<string, unknown>) => ({ name: 'aws-prod', kind: 'aws-kms', wrappingKey: 'wrap-2048.der', importToken: 'ImportToken.bin', algorithm: 'RSA_AES_KEY_WRAP_SHA_1', ...extra });
  const noModule = () => {
    throw new Error('the PKCS#11 module was opened');
  };

  // Decided by the plan's files and root type alone: the plan does not load (exit 2), so no module
  // is opened, no preflight runs, nothing is written.
  const atLoad: [string, Record<string, unknown>, string, string?][] = [
    ['direct', awsPlan({ algorithm: 'RSAES_OAEP_SHA_1' }), 'exports[0].algorithm: RSAES_OAEP_SHA_1 wraps only AES keys directly; the ec-p384 root key is a private key and needs RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256'],
    ['small', awsPlan({ wrappingKey: 'wrap-1024.pem' }), 'exports[0].wrappingKey: wrap-1024.pem is RSA-1024; at least RSA-2048 is required'],
    ['malformed', awsPlan({ wrappingKey: 'garbage.pem' }), 'exports[0].wrappingKey: garbage.pem is not a DER or PEM SubjectPublicKeyInfo'],
    ['not-rsa', awsPlan({ wrappingKey: 'ec-public.pem' }), 'exports[0].wrappingKey: ec-public.pem is not an RSA key (it is EC)'],
    ['empty-token', awsPlan({ importToken: 'empty-token.bin' }), 'exports[0].importToken: empty-token.bin is empty'],
    ['gcp-size', { name: 'gcp', kind: 'gcp-kms', wrappingKey: 'wrap-3072.pem', algorithm: 'RSA_OAEP_4096_SHA1_AES_256' }, 'exports[0].wrappingKey: wrap-3072.pem is RSA-3072 but RSA_OAEP_4096_SHA1_AES_256 needs RSA-4096'],
    ['vault-type', { name: 'vault', kind: 'vault-transit', wrappingKey: 'wrap-3072.pem', hashFunction: 'SHA1', type: 'aes256-gcm96' }, "exports[0].type: 'aes256-gcm96' does not fit the ec-p384 root key (use 'ecdsa-p384')"],
    ['azure-ed25519', { name: 'azure', kind: 'azure-byok', wrappingKey: 'wrap-3072.pem', kid: 'https://v/keys/k/1' }, 'exports[0].kind: Azure Key Vault cannot import ed25519 keys', 'ed25519'],
  ];
  for (const [name, exp, message, algorithm] of atLoad) {
    it(`${name}: the plan does not load (exit 2); no module opened, no object on the token, no bundle`, () => {
      const before = session.listObjects().length;
      const outDir = path.join(work, `out-${name}`);
      const file = planFile(name, [exp], algorithm);
      let err: unknown;
      try {
        Ceremony.load(file, { outDir, frontEnd: 'cli', rehearsal: true, openModule: noModule });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PlanError);
      expect((err as PlanError).exitCode).toBe(2);
      expect((err as Error).message).toBe(`plan ${file}: ${message}`);
      expect(session.listObjects().length).toBe(before);
      expect(existsSync(path.join(outDir, `refuse-${name}`))).toBe(false);
    });
  }

  it('the CLI: `plan check` and `ceremony run` both refuse such a plan with exit 2 and one line, before any HSM', () => {
    const file = planFile('cli', [awsPlan({ wrappingKey: 'garbage.pem' })]);
    const outDir = path.join(work, 'out-cli');
    const keyrite = (args: string[]) =>
      spawnSync(process.execPath, [path.resolve('bin/keyrite.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, SOFTHSM2_CONF: sandbox.confPath, TEST_PIN: PIN }, input: '' });
    const check = keyrite(['plan', 'check', file]);
    expect(check.status).toBe(2);
    expect(check.stdout).toBe(`${file}: exports[0].wrappingKey: garbage.pem is not a DER or PEM SubjectPublicKeyInfo\n`);
    expect(check.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^keyrite: error: plan .*: 1 problem, first: exports\[0\]\.wrappingKey: garbage\.pem is not/)]);
    const before = session.listObjects().length;
    const run = keyrite(['ceremony', 'run', '--rehearsal', '--plan', file, '--out', outDir, '--shares-out', path.join(outDir, 'shares'), '--ack-all', '--pin-env', 'TEST_PIN']);
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^keyrite: error: plan .*: exports\[0\]\.wrappingKey: garbage\.pem is not a DER or PEM SubjectPublicKeyInfo$/)]);
    expect(session.listObjects().length).toBe(before);
    expect(existsSync(path.join(outDir, 'refuse-cli'))).toBe(false);
  });

  // Decided by the token (its OAEP hashes): the preflight refuses (exit 1), still before any key
  // exists. (A file changed after the plan was loaded changes nothing: test/integration/pins.test.ts.)
  const atPreflight: [string, Record<string, unknown>, RegExp][] = [
    ['sha256', awsPlan({ algorithm: 'RSA_AES_KEY_WRAP_SHA_256' }), /exports\[0\] aws-prod: RSA_AES_KEY_WRAP_SHA_256 needs RSA-OAEP with SHA-256, which token 'refusals' does not support; RSA_AES_KEY_WRAP_SHA_1 would work/],
  ];

  for (const [name, exp, message] of atPreflight) {
    it(`${name}: preflight fails (exit 1), no object on the token, no bundle`, () => {
      const before = session.listObjects().length;
      const outDir = path.join(work, `out-${name}`);
      const c = Ceremony.load(planFile(name, [exp]), { outDir, frontEnd: 'cli', rehearsal: true });
      const report = c.preflight();
      expect(report.ok).toBe(false);
      expect(report.checks.filter((x) => !x.ok).map((x) => x.detail)).toEqual([expect.stringMatching(message)]);
      expect(() => Ceremony.assertPreflight(report)).toThrow(message);
      try {
        Ceremony.assertPreflight(report);
      } catch (err) {
        expect((err as OperationError).exitCode).toBe(1);
      }
      expect(session.listObjects().length).toBe(before);
      expect(existsSync(c.bundleDir)).toBe(false);
      c.close();
    });
  }
});

describe('sealing', () => {
  it('after CKA_EXTRACTABLE is turned off, the token refuses to wrap the root again', () => {
    const root = session.generateRootKey('ec-p256', 'sealed-root', Buffer.from('5ea1', 'hex'));
    const bundleDir = mkdtempSync(path.join(work, 'seal-'));
    const base = { files, bundleDir, rootAlgorithm: 'ec-p256' as const, rootLabel: 'sealed-root', appVersion: APP_VERSION };
    const { eventData } = runExport(session, root, aws({ name: 'before-seal' }), base);
    const { material } = unwrapRsaAes(standInKms(2048), readFileSync(path.join(bundleDir, eventData.files[0].path)), 'sha1');
    expect(spkiOfPkcs8(pkcs8FromMaterial(material).der).equals(session.publicKeySpki(root.publicKey!))).toBe(true);

    session.setAttributes(root.key, { extractable: false });
    expect(session.readAttributes(root.key).extractable).toBe(false);
    const before = session.listObjects().length;
    let err: unknown;
    try {
      runExport(session, root, aws({ name: 'after-seal' }), base);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HsmError);
    expect((err as HsmError).code).toBe('key-not-wrappable');
    expect((err as Error).message).toMatch(/^export after-seal: .*not extractable/);
    // Nothing written, and the ephemeral and wrapping keys were destroyed.
    expect(existsSync(path.join(bundleDir, 'exports', 'after-seal'))).toBe(false);
    expect(session.listObjects().length).toBe(before);
    // The token itself refuses CKA_EXTRACTABLE back on.
    expect(() => session.setAttributes(root.key, { extractable: true })).toThrow();
  });
});
