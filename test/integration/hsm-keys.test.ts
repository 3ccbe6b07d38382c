/**
 * The PKCS#11 layer against a real SoftHSM token: every root algorithm's key is generated with the
 * intended attributes (read back through graphene and, independently, through OpenSC's pkcs11-tool),
 * signs verifiably, wraps and unwraps with RFC 5649 and RSA-OAEP as node:crypto expects.
 */
import { execFileSync } from 'node:child_process';
import { constants, createCipheriv, createDecipheriv, createPublicKey, generateKeyPairSync, privateDecrypt, randomBytes, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import { aesCmac } from '../helpers/kms-standin.ts';
import {
  HsmError,
  kwpSelfTest,
  openModule,
  probeWrappable,
  ROOT_ALGORITHMS,
  type HsmModule,
  type HsmSession,
  type RootAlgorithm,
  type RootKey,
  type SignatureScheme,
} from '../../electron/core/hsm/index.ts';

const PIN = '482913';
const LABEL = 'keys-token';

const kcvOf = (key: Buffer) => aesCmac(key, Buffer.alloc(16)).subarray(0, 3).toString('hex');

function nodeUnwrapKwp(kek: Buffer, wrapped: Buffer): Buffer {
  const d = createDecipheriv('id-aes256-wrap-pad', kek, Buffer.from('a65959a6', 'hex'));
  return Buffer.concat([d.update(wrapped), d.final()]);
}

interface ToolObject {
  kind: string;
  label?: string;
  id?: string;
  usage: string[];
  access: string[];
}

/** Objects as OpenSC's pkcs11-tool sees them: an independent reading of the token. */
function pkcs11ToolObjects(sb: SoftHsmSandbox): ToolObject[] {
  const out = execFileSync('pkcs11-tool', ['--module', sb.module, '--token-label', LABEL, '--login', '--pin', PIN, '--list-objects'], {
    env: sb.env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const objs: ToolObject[] = [];
  for (const line of out.split('\n')) {
    if (/^\S.*Object;/.test(line)) objs.push({ kind: line.trim(), usage: [], access: [] });
    const m = /^\s+(label|ID|Usage|Access):\s+(.*)$/.exec(line);
    const cur = objs[objs.length - 1];
    if (!m || !cur) continue;
    if (m[1] === 'label') cur.label = m[2].trim();
    if (m[1] === 'ID') cur.id = m[2].trim();
    if (m[1] === 'Usage') cur.usage = m[2].split(',').map((s) => s.trim());
    if (m[1] === 'Access') cur.access = m[2].split(',').map((s) => s.trim());
  }
  return objs;
}

const SCHEME: Record<Exclude<RootAlgorithm, 'aes-256'>, { scheme: SignatureScheme; hash: string | null }> = {
  'ec-p256': { scheme: 'ecdsa-sha256', hash: 'sha256' },
  'ec-p384': { scheme: 'ecdsa-sha384', hash: 'sha384' },
  'rsa-3072': { scheme: 'rsa-pkcs1-sha256', hash: 'sha256' },
  'rsa-4096': { scheme: 'rsa-pkcs1-sha256', hash: 'sha256' },
  'ed25519': { scheme: 'ed25519', hash: null },
};

let sb: SoftHsmSandbox;
let mod: HsmModule;
let session: HsmSession;
const roots = new Map<RootAlgorithm, RootKey>();
const idOf = (alg: RootAlgorithm) => Buffer.from(`id-${alg}`);

beforeAll(() => {
  sb = createSoftHsmSandbox();
  sb.initToken(LABEL, PIN);
  process.env.SOFTHSM2_CONF = sb.confPath;
  mod = openModule(sb.module);
  session = mod.login({ label: LABEL }, PIN);
  for (const alg of ROOT_ALGORITHMS) roots.set(alg, session.generateRootKey(alg, `root-${alg}`, idOf(alg)));
});

afterAll(() => {
  session?.close();
  mod?.close();
  sb?.dispose();
});

describe('root key generation', () => {
  it.each(ROOT_ALGORITHMS)('%s: the key is a private, sensitive, extractable token object with the intended usage', (alg) => {
    const root = roots.get(alg)!;
    const a = session.readAttributes(root.key);
    expect(a).toMatchObject({
      label: `root-${alg}`,
      id: idOf(alg).toString('hex'),
      token: true,
      private: true,
      sensitive: true,
      alwaysSensitive: true,
      extractable: true,
      neverExtractable: false,
      modifiable: true,
      local: true,
      derive: false,
      sign: true,
    });
    if (alg === 'aes-256') {
      expect(a).toMatchObject({ class: 'SECRET_KEY', keyType: 'AES', valueLen: 32, encrypt: true, decrypt: true, wrap: false, unwrap: false });
      expect(root.publicKey).toBeUndefined();
      return;
    }
    expect(a.class).toBe('PRIVATE_KEY');
    expect(a.decrypt).toBe(alg.startsWith('rsa'));
    expect(a.unwrap).toBe(false);
    if (alg.startsWith('rsa')) expect(a).toMatchObject({ keyType: 'RSA', modulusBits: Number(alg.slice(4)) });
    if (alg === 'ec-p256') expect(a).toMatchObject({ keyType: 'EC', ecParams: '06082a8648ce3d030107' });
    if (alg === 'ec-p384') expect(a).toMatchObject({ keyType: 'EC', ecParams: '06052b81040022' });
    if (alg === 'ed25519') expect(a.keyType).toBe('EC_EDWARDS');

    const pub = session.readAttributes(root.publicKey!);
    expect(pub).toMatchObject({ class: 'PUBLIC_KEY', label: `root-${alg}`, id: idOf(alg).toString('hex'), token: true, private: false, verify: true });
    expect(pub.encrypt).toBe(alg.startsWith('rsa'));
  });

  it('pkcs11-tool sees the same labels, ids, usage and protection', () => {
    const objs = pkcs11ToolObjects(sb);
    for (const alg of ROOT_ALGORITHMS) {
      const id = idOf(alg).toString('hex');
      const mine = objs.filter((o) => o.label === `root-${alg}` && o.id === id);
      const secretOrPrivate = mine.find((o) => /^(Secret|Private) Key Object/.test(o.kind));
      expect(secretOrPrivate, alg).toBeDefined();
      expect(secretOrPrivate!.access).toEqual(expect.arrayContaining(['sensitive', 'always sensitive', 'extractable', 'local']));
      expect(secretOrPrivate!.access).not.toContain('never extractable');
      if (alg === 'aes-256') {
        expect(secretOrPrivate!.kind).toMatch(/AES length 32/);
        expect(secretOrPrivate!.usage).toEqual(expect.arrayContaining(['encrypt', 'decrypt']));
        expect(mine).toHaveLength(1);
      } else {
        expect(secretOrPrivate!.usage).toContain('sign');
        expect(secretOrPrivate!.usage.includes('decrypt')).toBe(alg.startsWith('rsa'));
        const pub = mine.find((o) => o.kind.startsWith('Public Key Object'));
        expect(pub, `${alg} public key`).toBeDefined();
        expect(pub!.usage).toContain('verify');
      }
    }
  });

  it('refuses a label that already exists on the token', () => {
    const err = (() => {
      try {
        session.generateRootKey('aes-256', 'root-aes-256', Buffer.from('x'));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(HsmError);
    expect((err as HsmError).code).toBe('label-exists');
  });

  it('the ceremony signer is EC P-384, sensitive, never extractable, sign only, and its signatures verify', () => {
    const signer = session.generateSignerKey('ceremony-signer', Buffer.from('signer'));
    const a = session.readAttributes(signer.key);
    expect(a).toMatchObject({ class: 'PRIVATE_KEY', keyType: 'EC', ecParams: '06052b81040022', token: true, sensitive: true, extractable: false, neverExtractable: true, sign: true, decrypt: false, derive: false });
    const tool = pkcs11ToolObjects(sb).find((o) => o.label === 'ceremony-signer' && o.kind.startsWith('Private'));
    expect(tool!.access).toContain('never extractable');
    const data = Buffer.from('DSSEv1 28 application/vnd.in-toto+json 2 {}');
    const sig = session.sign(signer.key, 'ecdsa-sha384', data);
    const spki = session.publicKeySpki(signer.publicKey!);
    expect(verify('sha384', data, createPublicKey({ key: spki, format: 'der', type: 'spki' }), sig)).toBe(true);
  });
});

describe('public keys and signatures', () => {
  it.each(ROOT_ALGORITHMS.filter((a) => a !== 'aes-256') as Exclude<RootAlgorithm, 'aes-256'>[])(
    '%s: SPKI parses and a signature from the token verifies with node:crypto',
    (alg) => {
      const root = roots.get(alg)!;
      const spki = session.publicKeySpki(root.key);
      expect(session.publicKeySpki(root.publicKey!).equals(spki)).toBe(true);
      const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
      expect(key.asymmetricKeyType).toBe(alg.startsWith('rsa') ? 'rsa' : alg === 'ed25519' ? 'ed25519' : 'ec');
      const data = randomBytes(100);
      const { scheme, hash } = SCHEME[alg];
      const sig = session.sign(root.key, scheme, data);
      if (scheme.startsWith('ecdsa')) expect(sig[0]).toBe(0x30); // DER, not raw r||s
      if (alg === 'ed25519') expect(sig).toHaveLength(64);
      expect(verify(hash, data, key, sig)).toBe(true);
      expect(verify(hash, Buffer.concat([data, Buffer.from([0])]), key, sig)).toBe(false);
    },
  );
});

describe('KCV', () => {
  it('is AES-CMAC over 16 zero bytes, computed in the token, as node:crypto computes it', () => {
    // RFC 4493 test vector first, so the reference CMAC is itself right.
    const rfcKey = Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex');
    expect(aesCmac(rfcKey, Buffer.alloc(0)).toString('hex')).toBe('bb1d6929e95937287fa37d129b756746');
    const known = Buffer.from('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4', 'hex');
    const ref = session.importAesKey(known, 'kcv-known', { sign: true });
    expect(session.aesKcv(ref)).toBe(kcvOf(known));
    expect(session.aesKcv(ref)).toMatch(/^[0-9a-f]{6}$/);
    session.destroy(ref);
  });
});

describe('RFC 5649 wrapping', () => {
  it('detects that SoftHSM zero-pads its CKM_AES_KEY_WRAP_PAD input', () => {
    const r = kwpSelfTest(session);
    expect(r.ok).toBe(true);
    expect(r.info).toEqual({ mechanism: 'CKM_AES_KEY_WRAP_PAD', mechanismType: 0x210a, zeroPadsInput: true });
    expect(session.kwpMechanism()).toEqual(r.info);
  });

  it('a wrapped AES root unwraps with node:crypto to a key with the same KCV', () => {
    const kekBytes = randomBytes(32);
    const kek = session.importAesKey(kekBytes, 'backup-kek', { wrap: true, unwrap: true, sign: true });
    expect(session.aesKcv(kek)).toBe(kcvOf(kekBytes));
    const root = roots.get('aes-256')!;
    const { wrapped, info } = session.wrapKwp(kek, root.key);
    expect(info.mechanism).toBe('CKM_AES_KEY_WRAP_PAD');
    const plain = nodeUnwrapKwp(kekBytes, wrapped);
    expect(plain).toHaveLength(32);
    expect(kcvOf(plain)).toBe(session.aesKcv(root.key));

    // And back into the token: the recovered key is the same key.
    const back = session.unwrapKwp(kek, wrapped, { algorithm: 'aes-256', label: 'recovered-aes', id: Buffer.from('r1'), asToken: false });
    expect(session.aesKcv(back.key)).toBe(session.aesKcv(root.key));
    expect(session.readAttributes(back.key)).toMatchObject({ class: 'SECRET_KEY', keyType: 'AES', token: false, sensitive: true, sign: true });
    session.destroy(back.key);
    session.destroy(kek);
  });

  it.each(['ec-p256', 'ec-p384', 'rsa-3072'] as const)('%s: wraps as PKCS#8 and unwraps into a token key pair that signs', (alg) => {
    const kekBytes = randomBytes(32);
    const kek = session.importAesKey(kekBytes, `kek-${alg}`, { wrap: true, unwrap: true });
    const root = roots.get(alg)!;
    const spki = session.publicKeySpki(root.key);
    const { wrapped } = session.wrapKwp(kek, root.key);
    // SoftHSM pads the PKCS#8 with zeros to a multiple of 8; node sees a DER SEQUENCE then zeros.
    const plain = nodeUnwrapKwp(kekBytes, wrapped);
    expect(plain[0]).toBe(0x30);
    expect(plain.length % 8).toBe(0);

    const label = `recovered-${alg}`;
    const back = session.unwrapKwp(kek, wrapped, { algorithm: alg, label, id: Buffer.from(label), asToken: true, publicSpki: spki });
    expect(session.readAttributes(back.key)).toMatchObject({ class: 'PRIVATE_KEY', label, token: true, private: true, sensitive: true, extractable: true, sign: true });
    expect(session.readAttributes(back.publicKey!)).toMatchObject({ class: 'PUBLIC_KEY', label, token: true, verify: true });
    expect(session.publicKeySpki(back.publicKey!).equals(spki)).toBe(true);
    const data = Buffer.from('recovery test');
    const { scheme, hash } = SCHEME[alg];
    expect(verify(hash, data, createPublicKey({ key: spki, format: 'der', type: 'spki' }), session.sign(back.key, scheme, data))).toBe(true);
    expect(session.destroyObjects({ label, idHex: Buffer.from(label).toString('hex') })).toBe(2);
    session.destroy(kek);
  });

  it('Ed25519 cannot be wrapped on SoftHSM, and the probe says so before anything is generated', () => {
    const before = session.listObjects().length;
    expect(probeWrappable(session, 'ed25519')).toBe(false);
    expect(probeWrappable(session, 'ec-p256')).toBe(true);
    expect(session.listObjects().length).toBe(before); // probes leave nothing behind
    const kek = session.generateAesSessionKey('kek-ed', { wrap: true });
    expect(() => session.wrapKwp(kek, roots.get('ed25519')!.key)).toThrow(expect.objectContaining({ code: 'key-not-wrappable' }));
    session.destroy(kek);
  });
});

describe('RSA-OAEP exports', () => {
  it('wraps an AES key with OAEP-SHA1 so that the KMS private key decrypts it; SHA-256 is refused plainly', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
    const wk = session.importRsaPublicKey(publicKey.export({ type: 'spki', format: 'der' }), 'kms-wrapping-key');
    expect(session.readAttributes(wk)).toMatchObject({ class: 'PUBLIC_KEY', keyType: 'RSA', token: false, wrap: true, encrypt: true });
    const eph = session.generateAesSessionKey('ephemeral', { wrap: true, extractable: true });
    const wrapped = session.wrapOaep(wk, eph, 'sha1');
    const plain = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, wrapped);
    expect(plain).toHaveLength(32);
    expect(kcvOf(plain)).toBe(session.aesKcv(eph));

    expect(() => session.wrapOaep(wk, eph, 'sha256')).toThrow(
      expect.objectContaining({ code: 'mechanism-missing', message: "token 'keys-token' cannot do RSA-OAEP with SHA-256 (it supports SHA-1)" }),
    );
    expect(session.hasRsaAesKeyWrap('sha1')).toBe(false);
    session.destroy(eph);
    session.destroy(wk);
  });
});

describe('sealing', () => {
  it('after setAttributes({extractable: false}) the root cannot be wrapped any more', () => {
    const root = session.generateRootKey('ec-p256', 'to-seal', Buffer.from('seal'));
    const kek = session.generateAesSessionKey('kek-seal', { wrap: true });
    expect(session.wrapKwp(kek, root.key).wrapped.length).toBeGreaterThan(0);
    session.setAttributes(root.key, { extractable: false });
    expect(session.readAttributes(root.key).extractable).toBe(false);
    let err: unknown;
    try {
      session.wrapKwp(kek, root.key);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HsmError);
    expect((err as HsmError).code).toBe('key-not-wrappable');
    expect((err as HsmError).message).toBe("key 'to-seal' on token 'keys-token' is not extractable; it cannot be wrapped");
    expect(session.findKey({ label: 'to-seal', kind: 'private' })?.idHex).toBe(Buffer.from('seal').toString('hex'));
    expect(session.destroyObjects({ label: 'to-seal' })).toBe(2);
    expect(session.findObjects({ label: 'to-seal' })).toEqual([]);
  });
});
