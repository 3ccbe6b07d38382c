import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPlanObject, loadPlan, PlanError } from '../../electron/core/ceremony/plan.ts';
import { NO_FILE_PIN, pinTarget } from '../helpers/plan-pins.ts';

function basePlan(): any {
  return {
    version: 1,
    id: 'acme-root-2026',
    title: 'ACME production root key',
    participants: [
      { id: 'ada', name: 'Ada Admin', role: 'administrator' },
      { id: 'wes', name: 'Wes Witness', role: 'witness' },
      { id: 'c1', name: 'Carol One', role: 'custodian' },
      { id: 'c2', name: 'Chen Two', role: 'custodian' },
      { id: 'c3', name: 'Cruz Three', role: 'custodian' },
    ],
    hsm: { module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'ceremony' },
    key: { label: 'acme-root-2026', algorithm: 'ec-p384', sealAfterExport: true },
    backup: { groupThreshold: 1, groups: [{ threshold: 2, custodians: ['c1', 'c2', 'c3'] }], iterationExponent: 1, passphrase: false },
    exports: [],
    steps: [{ id: 'room', text: 'The room is sealed.', ackBy: ['wes'] }],
  };
}

// The plan's KMS files, real enough for every rule the plan check applies without a token.
const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-plan-'));
const rsa = (bits: number) => generateKeyPairSync('rsa', { modulusLength: bits });
const rsa3072 = rsa(3072).publicKey;
writeFileSync(path.join(dir, 'wrap.pem'), rsa3072.export({ format: 'pem', type: 'spki' }));
writeFileSync(path.join(dir, 'wrap.der'), rsa3072.export({ format: 'der', type: 'spki' }));
writeFileSync(path.join(dir, 'wrap-1024.pem'), rsa(1024).publicKey.export({ format: 'pem', type: 'spki' }));
writeFileSync(path.join(dir, 'rsa-pkcs1.pem'), rsa3072.export({ format: 'pem', type: 'pkcs1' }));
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
writeFileSync(path.join(dir, 'ec-public.pem'), ec.publicKey.export({ format: 'pem', type: 'spki' }));
writeFileSync(path.join(dir, 'private.pem'), ec.privateKey.export({ format: 'pem', type: 'pkcs8' }));
writeFileSync(path.join(dir, 'garbage.pem'), 'this is not a key\n');
writeFileSync(path.join(dir, 'ImportToken.bin'), Buffer.from('opaque AWS import token'));
writeFileSync(path.join(dir, 'empty.bin'), Buffer.alloc(0));
mkdirSync(path.join(dir, 'a-folder'));

const aws = (extra: Record<string, unknown> = {}) => pin({ name: 'aws-1', kind: 'aws-kms', wrappingKey: 'wrap.pem', importToken: 'ImportToken.bin', algorithm: 'RSA_AES_KEY_WRAP_SHA_1', ...extra });
const gcp = (extra: Record<string, unknown> = {}) => pin({ name: 'gcp-1', kind: 'gcp-kms', wrappingKey: 'wrap.pem', algorithm: 'RSA_OAEP_3072_SHA1_AES_256', ...extra });
const azure = (extra: Record<string, unknown> = {}) => pin({ name: 'azure-1', kind: 'azure-byok', wrappingKey: 'wrap.pem', kid: 'https://v.vault.azure.net/keys/kek/1', ...extra });
const vault = (extra: Record<string, unknown> = {}) => pin({ name: 'vault-1', kind: 'vault-transit', wrappingKey: 'wrap.pem', hashFunction: 'SHA1', type: 'ecdsa-p384', ...extra });

/** Each target pinned to its file's SHA-256 (SPEC §2), as a KMS console prints it. */
const pin = (t: Record<string, unknown>) => pinTarget(dir, t, { missing: NO_FILE_PIN });

function problems(mutate: (p: any) => void, opts: { outDir?: string } = {}) {
  const p = basePlan();
  mutate(p);
  return checkPlanObject(p, dir, opts).problems;
}

describe('plan rules (SPEC §2)', () => {
  it('accepts co-signing keyids on a witness and the administrator', () => {
    expect(problems((p) => ((p.participants[0].keyid = 'ab'.repeat(32)), (p.participants[1].keyid = 'cd'.repeat(32))))).toEqual([]);
  });

  it('flags a custodian who is in no backup group', () => {
    const found = problems((p) => p.participants.push({ id: 'c4', name: 'Cleo Four', role: 'custodian' }));
    expect(found).toEqual([{ path: 'participants[5]', message: "custodian 'c4' is in no backup group (add them to a group, or give them another role)" }]);
  });

  it('accepts the base plan and fills defaults', () => {
    const r = checkPlanObject(basePlan(), dir);
    expect(r.problems).toEqual([]);
    expect(r.plan!.backup.extendable).toBe(true);
  });

  const cases: [string, (p: any) => void, string, RegExp][] = [
    ['unknown top-level key', (p) => (p.extra = 1), '(plan)', /unknown key 'extra'/],
    ['unknown nested key', (p) => (p.key.exportable = true), 'key', /unknown key 'exportable'/],
    ['bad version', (p) => (p.version = 2), 'version', /1/],
    ['bad id', (p) => (p.id = 'Bad_ID'), 'id', /must match/],
    ['missing title', (p) => delete p.title, 'title', /is required/],
    ['unknown algorithm', (p) => (p.key.algorithm = 'rsa-2048'), 'key.algorithm', /aes-256/],
    ['no administrator', (p) => (p.participants[0].role = 'witness'), 'participants', /exactly one administrator/],
    ['two administrators', (p) => (p.participants[1].role = 'administrator'), 'participants', /exactly one administrator \(found 2\)/],
    ['no witness', (p) => (p.participants[1].role = 'custodian'), 'participants', /at least one witness/],
    ['duplicate participant', (p) => (p.participants[4].id = 'c1'), 'participants[4].id', /duplicate participant id 'c1'/],
    ['unknown role', (p) => (p.participants[2].role = 'boss'), 'participants[2].role', /administrator/],
    ['keyid not hex', (p) => (p.participants[1].keyid = 'AB'.repeat(32)), 'participants[1].keyid', /64 lowercase hex digits/],
    ['keyid too short', (p) => (p.participants[1].keyid = 'ab'.repeat(31)), 'participants[1].keyid', /64 lowercase hex digits/],
    ['keyid on a custodian', (p) => (p.participants[2].keyid = 'ab'.repeat(32)), 'participants[2].keyid', /is a custodian; only a witness or the administrator co-signs/],
    ['keyid shared', (p) => ((p.participants[0].keyid = 'cd'.repeat(32)), (p.participants[1].keyid = 'cd'.repeat(32))), 'participants[1].keyid', /same keyid as 'ada'/],
    ['custodian listed twice', (p) => (p.backup.groups[0].custodians = ['c1', 'c1', 'c2']), 'backup.groups[0].custodians[1]', /already listed/],
    ['custodian not a participant', (p) => (p.backup.groups[0].custodians[2] = 'zed'), 'backup.groups[0].custodians[2]', /not a participant/],
    ['witness as custodian', (p) => (p.backup.groups[0].custodians[2] = 'wes'), 'backup.groups[0].custodians[2]', /witness, not a custodian/],
    ['threshold above count', (p) => (p.backup.groups[0].threshold = 4), 'backup.groups[0].threshold', /has 3 custodian/],
    ['threshold 1 of many', (p) => (p.backup.groups[0].threshold = 1), 'backup.groups[0].threshold', /may not be 1/],
    ['threshold 0', (p) => (p.backup.groups[0].threshold = 0), 'backup.groups[0].threshold', />=1|too small/i],
    ['group threshold above groups', (p) => (p.backup.groupThreshold = 2), 'backup.groupThreshold', /1 group/],
    ['too many groups', (p) => (p.backup.groups = Array.from({ length: 17 }, () => ({ threshold: 1, custodians: ['c1'] }))), 'backup.groups', /16/],
    ['empty group', (p) => (p.backup.groups[0].custodians = []), 'backup.groups[0].custodians', /at least one custodian/],
    ['iteration exponent too big', (p) => (p.backup.iterationExponent = 16), 'backup.iterationExponent', /15/],
    ['no token selector', (p) => (p.hsm = { module: '/x.so' }), 'hsm.tokenLabel', /is required to find the token/],
    ['serial alone', (p) => (p.hsm = { module: '/x.so', tokenSerial: '0000000000000000' }), 'hsm.tokenLabel', /never picked by serial alone/],
    ['negative slot', (p) => (p.hsm.slot = -1), 'hsm.slot', />=0|too small/i],
    ['unknown export kind', (p) => (p.exports = [{ name: 'x-1', kind: 'oci-kms', wrappingKey: 'wrap.pem' }]), 'exports[0].kind', /aws-kms/],
    ['missing wrapping key file', (p) => (p.exports = [gcp({ wrappingKey: 'missing.pem' })]), 'exports[0].wrappingKey', /^file missing\.pem does not exist$/],
    ['wrapping key is a folder', (p) => (p.exports = [gcp({ wrappingKey: 'a-folder' })]), 'exports[0].wrappingKey', /^a-folder is not a file$/],
    ['empty wrapping key', (p) => (p.exports = [gcp({ wrappingKey: 'empty.bin' })]), 'exports[0].wrappingKey', /^empty\.bin is empty$/],
    ['garbage wrapping key', (p) => (p.exports = [aws({ wrappingKey: 'garbage.pem' })]), 'exports[0].wrappingKey', /^garbage\.pem is not a DER or PEM SubjectPublicKeyInfo$/],
    ['private key as wrapping key', (p) => (p.exports = [aws({ wrappingKey: 'private.pem' })]), 'exports[0].wrappingKey', /^private\.pem is a PEM "PRIVATE KEY", not a "PUBLIC KEY" \(SPKI\)$/],
    ['PKCS#1 wrapping key', (p) => (p.exports = [aws({ wrappingKey: 'rsa-pkcs1.pem' })]), 'exports[0].wrappingKey', /^rsa-pkcs1\.pem is a PEM "RSA PUBLIC KEY", not a "PUBLIC KEY"/],
    ['non-RSA wrapping key', (p) => (p.exports = [vault({ wrappingKey: 'ec-public.pem' })]), 'exports[0].wrappingKey', /^ec-public\.pem is not an RSA key \(it is EC\)$/],
    ['1024-bit wrapping key', (p) => (p.exports = [azure({ wrappingKey: 'wrap-1024.pem' })]), 'exports[0].wrappingKey', /^wrap-1024\.pem is RSA-1024; at least RSA-2048 is required$/],
    ['GCP size not the algorithm\'s', (p) => (p.exports = [gcp({ algorithm: 'RSA_OAEP_4096_SHA256_AES_256' })]), 'exports[0].wrappingKey', /^wrap\.pem is RSA-3072 but RSA_OAEP_4096_SHA256_AES_256 needs RSA-4096$/],
    ['missing AWS import token', (p) => (p.exports = [aws({ importToken: undefined })]), 'exports[0].importToken', /is required/],
    ['AWS import token file missing', (p) => (p.exports = [aws({ importToken: 'gone.bin' })]), 'exports[0].importToken', /^file gone\.bin does not exist$/],
    ['empty AWS import token', (p) => (p.exports = [aws({ importToken: 'empty.bin' })]), 'exports[0].importToken', /^empty\.bin is empty$/],
    ['AWS import token is a folder', (p) => (p.exports = [aws({ importToken: 'a-folder' })]), 'exports[0].importToken', /^a-folder is not a file$/],
    ['AWS direct OAEP with an EC root', (p) => (p.exports = [aws({ algorithm: 'RSAES_OAEP_SHA_1' })]), 'exports[0].algorithm', /^RSAES_OAEP_SHA_1 wraps only AES keys directly; the ec-p384 root key is a private key and needs RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256$/],
    ['GCP direct OAEP with an RSA root', (p) => ((p.key.algorithm = 'rsa-3072'), (p.exports = [gcp({ algorithm: 'RSA_OAEP_3072_SHA256' })])), 'exports[0].algorithm', /needs RSA_OAEP_3072_SHA1_AES_256 or RSA_OAEP_3072_SHA256_AES_256$/],
    ['Vault AES type for an EC root', (p) => (p.exports = [vault({ type: 'aes256-gcm96' })]), 'exports[0].type', /^'aes256-gcm96' does not fit the ec-p384 root key \(use 'ecdsa-p384'\)$/],
    ['Vault P-256 type for a P-384 root', (p) => (p.exports = [vault({ type: 'ecdsa-p256' })]), 'exports[0].type', /use 'ecdsa-p384'/],
    ['Vault AES-128 type for an AES-256 root', (p) => ((p.key.algorithm = 'aes-256'), (p.exports = [vault({ type: 'aes128-gcm96' })])), 'exports[0].type', /does not fit the aes-256 root key \(use 'aes256-gcm96'/],
    ['Vault type for another RSA size', (p) => ((p.key.algorithm = 'rsa-4096'), (p.exports = [vault({ type: 'rsa-3072' })])), 'exports[0].type', /use 'rsa-4096'/],
    ['Azure with an Ed25519 root', (p) => ((p.key.algorithm = 'ed25519'), (p.exports = [azure()])), 'exports[0].kind', /^Azure Key Vault cannot import ed25519 keys$/],
    ['duplicate export name', (p) => (p.exports = [vault({ name: 'v-1' }), vault({ name: 'v-1' })]), 'exports[1].name', /duplicate export name/],
    ['step acked by stranger', (p) => (p.steps[0].ackBy = ['zed']), 'steps[0].ackBy[0]', /not a participant/],
    ['duplicate step', (p) => p.steps.push({ ...p.steps[0] }), 'steps[1].id', /duplicate step id/],
    ['PIN in the plan', (p) => (p.hsm.pin = '1234'), 'hsm', /unknown key 'pin'/],
  ];
  for (const [name, mutate, where, msg] of cases) {
    it(`refuses: ${name}`, () => {
      const ps = problems(mutate);
      const hit = ps.find((x) => x.path === where);
      expect(hit, JSON.stringify(ps)).toBeDefined();
      expect(hit!.message).toMatch(msg);
    });
  }

  it('accepts one good export of each kind, DER or PEM wrapping keys, and the forms each root type allows', () => {
    expect(problems((p) => (p.exports = [aws({ wrappingKey: 'wrap.der' }), gcp(), azure(), vault()]))).toEqual([]);
    const aesRoot = problems((p) => {
      p.key.algorithm = 'aes-256';
      p.exports = [aws({ algorithm: 'RSAES_OAEP_SHA_1' }), gcp({ algorithm: 'RSA_OAEP_3072_SHA256' }), vault({ type: 'aes256-gcm96' }), vault({ name: 'vault-2', type: 'chacha20-poly1305' })];
    });
    expect(aesRoot).toEqual([]);
    for (const [root, type] of [['ec-p256', 'ecdsa-p256'], ['rsa-3072', 'rsa-3072'], ['rsa-4096', 'rsa-4096'], ['ed25519', 'ed25519']])
      expect(problems((p) => ((p.key.algorithm = root), (p.exports = [vault({ type })])))).toEqual([]);
  });

  it('reports every export problem with its own path, by index, and a control character in a name cannot break the line', () => {
    const ps = problems((p) => (p.exports = [aws(), aws({ name: 'aws-2', wrappingKey: 'garbage.pem', importToken: 'empty.bin', algorithm: 'RSAES_OAEP_SHA_256' }), vault({ type: 'x\ny' })]));
    expect(ps.map((x) => x.path)).toEqual(['exports[1].wrappingKey', 'exports[1].importToken', 'exports[1].algorithm', 'exports[2].type']);
    expect(ps[3].message).toMatch(/^'"x\\ny"' does not fit/);
  });

  it('loadPlan refuses a plan whose export cannot run with exit 2, before any HSM is opened', () => {
    const f = path.join(dir, 'bad-export.json');
    writeFileSync(f, JSON.stringify({ ...basePlan(), exports: [aws({ wrappingKey: 'garbage.pem' })] }));
    let err: unknown;
    try {
      loadPlan(f);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PlanError);
    expect((err as PlanError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(/bad-export\.json: exports\[0\]\.wrappingKey: garbage\.pem is not a DER or PEM SubjectPublicKeyInfo$/);
  });

  it('reports every problem at once', () => {
    const ps = problems((p) => {
      p.id = 'X';
      p.backup.groups[0].threshold = 9;
      p.participants[1].role = 'custodian';
    });
    expect(ps.map((x) => x.path)).toEqual(expect.arrayContaining(['id']));
    const ps2 = problems((p) => {
      p.backup.groups[0].threshold = 9;
      p.participants[1].role = 'custodian';
    });
    expect(ps2.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses an output folder that exists', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'keyrite-out-'));
    mkdirSync(path.join(out, 'acme-root-2026'));
    const ps = problems(() => {}, { outDir: out });
    expect(ps).toEqual([{ path: 'id', message: expect.stringMatching(/already exists/) }]);
  });

  it('loadPlan keeps the bytes exactly and names the file in errors', () => {
    const f = path.join(dir, 'plan.json');
    const text = JSON.stringify(basePlan(), null, 3) + '\n\n';
    writeFileSync(f, text);
    const lp = loadPlan(f);
    expect(lp.bytes.toString()).toBe(text);
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...basePlan(), id: 'no' }));
    expect(() => loadPlan(bad)).toThrow(PlanError);
    expect(() => loadPlan(bad)).toThrow(/bad.json: id: must match/);
    writeFileSync(bad, '{\n  "version": 1,\n  "id": \n}');
    expect(() => loadPlan(bad)).toThrow(/bad.json: malformed JSON at line 4/);
    expect(() => loadPlan(path.join(dir, 'nope.json'))).toThrow(/nope.json: no such file/);
  });
});
