/**
 * Pinned plan inputs (docs/plan.md), attacked without a token: a wrong digest, a path out of the plan's
 * folder (absolute, "..", through a link), a file over 1 MiB — each refused at load with one line
 * naming the JSON path; the files are read once, so a swap after load is never seen. Sealing is the
 * default, and a plan that turns it off shows a warning in the report.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPlan, PlanError } from '../../electron/core/ceremony/plan.ts';
import { MAX_PLAN_FILE_BYTES } from '../../electron/core/ceremony/plan-files.ts';
import { attributeChecks } from '../../electron/core/ceremony/key-checks.ts';
import type { KeyAttributes } from '../../electron/core/hsm/types.ts';
import { renderReport } from '../../electron/core/sheets/report.ts';
import { standInKms } from '../helpers/kms-standin.ts';
import { runCli } from '../helpers/reliability.ts';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

const root = mkdtempSync(path.join(os.tmpdir(), 'keyrite-pins-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const WRAP = standInKms(2048).spkiPem;
const TOKEN = Buffer.from('the import token AWS handed out');
const OTHER = standInKms(3072).spkiPem;

let n = 0;
/** A fresh plan folder with aws-wrap.pem and ImportToken.bin, and a plan over them. */
function planDir(): string {
  const dir = path.join(root, `plan-${++n}`);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'aws-wrap.pem'), WRAP);
  writeFileSync(path.join(dir, 'ImportToken.bin'), TOKEN);
  return dir;
}

function aws(extra: Record<string, unknown> = {}) {
  return {
    name: 'aws-prod',
    kind: 'aws-kms',
    wrappingKey: 'aws-wrap.pem',
    wrappingKeySha256: sha256(WRAP),
    importToken: 'ImportToken.bin',
    importTokenSha256: sha256(TOKEN),
    algorithm: 'RSA_AES_KEY_WRAP_SHA_1',
    ...extra,
  };
}

function writePlan(dir: string, exports: unknown[], key: Record<string, unknown> = {}, hsm: Record<string, unknown> = {}): string {
  const file = path.join(dir, 'plan.json');
  writeFileSync(
    file,
    JSON.stringify({
      version: 1,
      id: 'pins-root-2026',
      title: 'Pinned inputs',
      participants: [
        { id: 'ada', name: 'Ada Admin', role: 'administrator' },
        { id: 'wes', name: 'Wes Witness', role: 'witness' },
        { id: 'c1', name: 'Carol One', role: 'custodian' },
      ],
      hsm: { module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'ceremony', ...hsm },
      key: { label: 'pins-root', algorithm: 'ec-p256', ...key },
      backup: { groupThreshold: 1, groups: [{ threshold: 1, custodians: ['c1'] }] },
      exports,
    }),
  );
  return file;
}

/** The one-line refusal of loading this plan (exit 2). */
function refusal(file: string): string {
  try {
    loadPlan(file);
  } catch (err) {
    expect(err).toBeInstanceOf(PlanError);
    expect((err as PlanError).exitCode).toBe(2);
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }
  throw new Error('the plan loaded');
}

describe('pinned digests', () => {
  it('a plan with the right digests loads, and holds the bytes it checked', () => {
    const dir = planDir();
    const lp = loadPlan(writePlan(dir, [aws()]));
    const wk = lp.files.get('aws-wrap.pem');
    const tok = lp.files.get('ImportToken.bin');
    expect(wk.ok && wk.bytes.toString()).toBe(WRAP);
    expect(tok.ok && tok.bytes.equals(TOKEN)).toBe(true);
  });

  it('an uppercase digest (as some consoles print it) is the same pin', () => {
    const dir = planDir();
    expect(() => loadPlan(writePlan(dir, [aws({ wrappingKeySha256: sha256(WRAP).toUpperCase() })]))).not.toThrow();
  });

  it('a wrong wrapping key digest is refused at load, naming the field and both digests', () => {
    const dir = planDir();
    const wrong = sha256(OTHER);
    expect(refusal(writePlan(dir, [aws({ wrappingKeySha256: wrong })]))).toBe(
      `plan ${path.join(dir, 'plan.json')}: exports[0].wrappingKeySha256: aws-wrap.pem has SHA-256 ${sha256(WRAP)}, not the ${wrong} the plan pins; it is not the file the KMS handed out`,
    );
  });

  it("the SPKI DER digest of a PEM wrapping key is not its pin, and the refusal says so", () => {
    const dir = planDir();
    const der = sha256(standInKms(2048).spkiDer);
    expect(refusal(writePlan(dir, [aws({ wrappingKeySha256: der })]))).toMatch(
      new RegExp(`: exports\\[0\\]\\.wrappingKeySha256: aws-wrap\\.pem has SHA-256 ${sha256(WRAP)}, not the ${der} the plan pins; the plan has the SHA-256 of the key's DER encoding, pin the file's own \\(sha256sum aws-wrap\\.pem\\)$`),
    );
  });

  it('a swapped wrapping key file (the plan pins the KMS one) is refused at load', () => {
    const dir = planDir();
    const file = writePlan(dir, [aws()]);
    writeFileSync(path.join(dir, 'aws-wrap.pem'), OTHER);
    expect(refusal(file)).toMatch(/: exports\[0\]\.wrappingKeySha256: aws-wrap\.pem has SHA-256 [0-9a-f]{64}, not the [0-9a-f]{64} the plan pins/);
  });

  it('a swapped import token is refused at load', () => {
    const dir = planDir();
    const file = writePlan(dir, [aws()]);
    writeFileSync(path.join(dir, 'ImportToken.bin'), 'someone else\u2019s import token');
    expect(refusal(file)).toMatch(/: exports\[0\]\.importTokenSha256: ImportToken\.bin has SHA-256 [0-9a-f]{64}, not the [0-9a-f]{64} the plan pins/);
  });

  it('the digests are required, and must be 64 hex digits', () => {
    const dir = planDir();
    expect(refusal(writePlan(dir, [aws({ wrappingKeySha256: undefined })]))).toMatch(/: exports\[0\]\.wrappingKeySha256: is required$/);
    expect(refusal(writePlan(dir, [aws({ importTokenSha256: undefined })]))).toMatch(/: exports\[0\]\.importTokenSha256: is required$/);
    expect(refusal(writePlan(dir, [aws({ wrappingKeySha256: 'abc' })]))).toMatch(/: exports\[0\]\.wrappingKeySha256: must be the file's SHA-256 as 64 hex digits$/);
    // Only AWS has an import token.
    expect(refusal(writePlan(dir, [{ name: 'vault', kind: 'vault-transit', wrappingKey: 'aws-wrap.pem', wrappingKeySha256: sha256(WRAP), importTokenSha256: sha256(TOKEN), hashFunction: 'SHA1', type: 'ecdsa-p256' }]))).toMatch(
      /: exports\[0\]: unknown key 'importTokenSha256'/,
    );
  });

  it('each file is read once at load: a swap afterwards is never seen, and nothing else is read', () => {
    const dir = planDir();
    const lp = loadPlan(writePlan(dir, [aws()]));
    writeFileSync(path.join(dir, 'aws-wrap.pem'), OTHER);
    unlinkSync(path.join(dir, 'ImportToken.bin'));
    const wk = lp.files.get('aws-wrap.pem');
    expect(wk.ok && wk.bytes.toString()).toBe(WRAP);
    expect(lp.files.get('ImportToken.bin')).toMatchObject({ ok: true, sha256: sha256(TOKEN) });
    writeFileSync(path.join(dir, 'late.bin'), 'x');
    expect(lp.files.get('late.bin')).toEqual({ ok: false, problem: 'was not read when the plan was loaded' });
  });
});

describe("every plan path stays inside the plan's folder", () => {
  it('an absolute path is refused', () => {
    const dir = planDir();
    const abs = path.join(dir, 'ImportToken.bin');
    expect(refusal(writePlan(dir, [aws({ importToken: abs })]))).toBe(
      `plan ${path.join(dir, 'plan.json')}: exports[0].importToken: ${abs} is an absolute path; paths in a plan are relative to the plan's folder`,
    );
    expect(refusal(writePlan(dir, [aws({ wrappingKey: path.join(dir, 'aws-wrap.pem') })]))).toMatch(/: exports\[0\]\.wrappingKey: .* is an absolute path/);
  });

  it('a ".." path is refused, even one that comes back into the folder', () => {
    const dir = planDir();
    mkdirSync(path.join(root, 'outside'), { recursive: true });
    writeFileSync(path.join(root, 'outside', 'secret.bin'), TOKEN);
    expect(refusal(writePlan(dir, [aws({ importToken: '../outside/secret.bin' })]))).toMatch(
      /: exports\[0\]\.importToken: \.\.\/outside\/secret\.bin leaves the plan's folder \('\.\.'\); paths in a plan stay inside the plan's folder$/,
    );
    expect(refusal(writePlan(dir, [aws({ wrappingKey: `sub/../../${path.basename(dir)}/aws-wrap.pem` })]))).toMatch(/: exports\[0\]\.wrappingKey: .* leaves the plan's folder/);
  });

  it('a symbolic link is refused: as the file, or as a folder on the way', () => {
    const dir = planDir();
    mkdirSync(path.join(root, 'elsewhere'), { recursive: true });
    writeFileSync(path.join(root, 'elsewhere', 'ImportToken.bin'), TOKEN);
    symlinkSync(path.join(root, 'elsewhere', 'ImportToken.bin'), path.join(dir, 'token-link.bin'));
    symlinkSync(path.join(root, 'elsewhere'), path.join(dir, 'kms'));
    // The link's target even has the pinned digest: a link is refused for what it is.
    expect(refusal(writePlan(dir, [aws({ importToken: 'token-link.bin' })]))).toMatch(
      /: exports\[0\]\.importToken: token-link\.bin is a symbolic link; a plan's files may not be links$/,
    );
    expect(refusal(writePlan(dir, [aws({ importToken: 'kms/ImportToken.bin' })]))).toMatch(
      /: exports\[0\]\.importToken: kms\/ImportToken\.bin goes through 'kms', which is a symbolic link; a plan's files may not be links$/,
    );
    // A real sub-folder is fine.
    mkdirSync(path.join(dir, 'aws'));
    writeFileSync(path.join(dir, 'aws', 'ImportToken.bin'), TOKEN);
    expect(() => loadPlan(writePlan(dir, [aws({ importToken: 'aws/ImportToken.bin' })]))).not.toThrow();
  });

  it('a file over 1 MiB is refused; exactly 1 MiB is accepted', () => {
    const dir = planDir();
    const big = Buffer.alloc(MAX_PLAN_FILE_BYTES + 1, 7);
    writeFileSync(path.join(dir, 'big.bin'), big);
    expect(refusal(writePlan(dir, [aws({ importToken: 'big.bin', importTokenSha256: sha256(big) })]))).toMatch(
      /: exports\[0\]\.importToken: big\.bin is 1048577 bytes; a plan's files may be at most 1 MiB \(1048576 bytes\)$/,
    );
    const max = big.subarray(0, MAX_PLAN_FILE_BYTES);
    writeFileSync(path.join(dir, 'max.bin'), max);
    expect(() => loadPlan(writePlan(dir, [aws({ importToken: 'max.bin', importTokenSha256: sha256(max) })]))).not.toThrow();
  });

  it('the HSM module may be an absolute system path; a relative one follows the same rule', () => {
    const dir = planDir();
    expect(() => loadPlan(writePlan(dir, [], {}, { module: '/usr/lib/softhsm/libsofthsm2.so' }))).not.toThrow();
    expect(refusal(writePlan(dir, [], {}, { module: '../lib/evil.so' }))).toMatch(/: hsm\.module: \.\.\/lib\/evil\.so leaves the plan's folder/);
  });

  it('`keyrite plan check` prints the refusal as one line with the JSON path (exit 2)', async () => {
    const dir = planDir();
    const file = writePlan(dir, [aws({ importToken: '/etc/passwd' })]);
    const r = await runCli(['plan', 'check', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(`${file}: exports[0].importToken: /etc/passwd is an absolute path; paths in a plan are relative to the plan's folder\n`);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('sealing by default', () => {
  it('key.sealAfterExport is true unless the plan says false', () => {
    const dir = planDir();
    expect(loadPlan(writePlan(dir, [])).plan.key.sealAfterExport).toBe(true);
    expect(loadPlan(writePlan(dir, [], { sealAfterExport: false })).plan.key.sealAfterExport).toBe(false);
  });

  it('the report warns when the plan keeps the root extractable, and only then', () => {
    const dir = planDir();
    const kept = loadPlan(writePlan(dir, [], { sealAfterExport: false })).plan;
    const sealed = loadPlan(writePlan(dir, [])).plan;
    expect(renderReport([], { plan: kept })).toMatch(/id="warning-unsealed".*WARNING: ROOT KEY NOT SEALED.*key\.sealAfterExport: false/);
    expect(renderReport([], { plan: sealed })).not.toContain('warning-unsealed');
  });
});

describe('fail closed on attributes', () => {
  const good: KeyAttributes = {
    class: 'PRIVATE_KEY',
    keyType: 'EC',
    label: 'k',
    id: '01',
    token: true,
    private: true,
    sensitive: true,
    extractable: false,
    alwaysSensitive: true,
    neverExtractable: true,
    local: true,
    sign: true,
    decrypt: false,
    derive: false,
    ecParams: '06082a8648ce3d030107',
  };
  const want = { label: 'k', idHex: '01', algorithm: 'ec-p256' as const, extractable: false };

  it('all readable and as wanted: every check passes', () => {
    expect(attributeChecks(good, want).filter((c) => !c.ok)).toEqual([]);
  });

  for (const [attr, cka, check] of [
    ['extractable', 'CKA_EXTRACTABLE', 'extractable'],
    ['derive', 'CKA_DERIVE', 'no derive'],
    ['sensitive', 'CKA_SENSITIVE', 'sensitive'],
    ['local', 'CKA_LOCAL', 'generated in the token'],
  ] as const) {
    it(`an unreadable ${cka} is a failed check naming it, never the safe value`, () => {
      const a = { ...good };
      delete a[attr];
      const failed = attributeChecks(a, want).filter((c) => !c.ok);
      expect(failed).toEqual([{ name: check, ok: false, detail: expect.stringContaining(`${cka} cannot be read`) }]);
    });
  }
});
