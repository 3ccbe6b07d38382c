import { createPrivateKey, generateKeyPairSync, privateEncrypt, randomBytes, sign, constants } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { judgeCapabilities, kcvPath, refusals, rsaSignPath } from '../../electron/core/hsm/capabilities.ts';
import { cmacSubkey, kcvFromEcb, kcvSoftware } from '../../electron/core/hsm/kcv-ecb.ts';
import { sha256DigestInfo } from '../../electron/core/hsm/rsa-digestinfo.ts';
import type { MechanismInfo } from '../../electron/core/hsm/types.ts';
import { createCipheriv } from 'node:crypto';
import { aesCmac } from '../helpers/kms-standin.ts';

const m = (type: number, flags: string[], min = 0, max = 0): MechanismInfo => ({ type, name: '', flags, minKeySize: min, maxKeySize: max });
/** A token with everything, SoftHSM-like. */
const FULL = [
  m(0x0000, ['GENERATE_KEY_PAIR'], 512, 16384),
  m(0x0001, ['SIGN', 'ENCRYPT', 'WRAP']),
  m(0x0009, ['ENCRYPT', 'DECRYPT', 'WRAP', 'UNWRAP']),
  m(0x0040, ['SIGN', 'VERIFY']),
  m(0x1040, ['GENERATE_KEY_PAIR'], 256, 521),
  m(0x1041, ['SIGN', 'VERIFY']),
  m(0x1055, ['GENERATE_KEY_PAIR'], 255, 255),
  m(0x1057, ['SIGN', 'VERIFY']),
  m(0x1080, ['GENERATE'], 16, 32),
  m(0x1081, ['ENCRYPT', 'DECRYPT']),
  m(0x108a, ['SIGN', 'VERIFY']),
  m(0x210a, ['WRAP', 'UNWRAP']),
];
const without = (...types: number[]) => FULL.filter((x) => !types.includes(x.type));
const row = (mechs: MechanismInfo[], name: string, alg: Parameters<typeof judgeCapabilities>[1] = 'aes-256', exports = 1) =>
  judgeCapabilities(mechs, alg, { exports }).rows.find((r) => r.capability === name)!;

describe('capability judgement: flags and sizes, native, fallback, refused', () => {
  it('everything native on a full token', () => {
    const plan = judgeCapabilities(FULL, 'rsa-4096', { exports: 1, tokenFlags: ['RNG'] });
    expect(plan.ok).toBe(true);
    expect(plan.rows.every((r) => r.path === 'native')).toBe(true);
    expect(plan.signer).toBe('ec-p384');
  });
  it('signer: P-256 where EC stops at 256 bits, RSA-3072 without EC, refused without either', () => {
    const ec256 = FULL.map((x) => (x.type === 0x1040 ? { ...x, maxKeySize: 256 } : x));
    expect(judgeCapabilities(ec256, 'aes-256').signer).toBe('ec-p256');
    expect(row(ec256, 'signer').path).toBe('fallback');
    expect(judgeCapabilities(without(0x1040), 'aes-256').signer).toBe('rsa-3072');
    const none = judgeCapabilities(without(0x1040, 0x0000), 'aes-256');
    expect(none.signer).toBeUndefined();
    expect(refusals(none)).toMatch(/^signer: no transcript signer possible: ec-p384: the token does not list CKM_EC_KEY_PAIR_GEN/);
  });
  it('RSA-4096 on a token whose RSA keygen stops at 3072 is refused, RSA-3072 is not', () => {
    const small = FULL.map((x) => (x.type === 0x0000 ? { ...x, maxKeySize: 3072 } : x));
    expect(judgeCapabilities(small, 'rsa-4096').ok).toBe(false);
    expect(row(small, 'root keygen', 'rsa-4096').detail).toMatch(/takes 512..3072, not 4096/);
    expect(judgeCapabilities(small, 'rsa-3072').ok).toBe(true);
  });
  it('AES key sizes given in bits are understood too', () => {
    const bits = FULL.map((x) => (x.type === 0x1080 ? { ...x, minKeySize: 128, maxKeySize: 256 } : x));
    expect(judgeCapabilities(bits, 'aes-256').ok).toBe(true);
  });
  it('RSA-OAEP offered without the wrap flag cannot serve an export', () => {
    const noWrap = FULL.map((x) => (x.type === 0x0009 ? { ...x, flags: ['ENCRYPT', 'DECRYPT'] } : x));
    expect(row(noWrap, 'export wrap')).toMatchObject({ path: 'refused', detail: 'CKM_RSA_PKCS_OAEP is listed for ENCRYPT/DECRYPT, not WRAP' });
    // ... but a plan without exports does not need it.
    expect(judgeCapabilities(noWrap, 'aes-256', { exports: 0 }).ok).toBe(true);
  });
  it('KCV from AES-ECB without CMAC; PKCS#1 through CKM_RSA_PKCS without CKM_SHA256_RSA_PKCS', () => {
    expect(kcvPath(without(0x108a))).toBe('ecb');
    expect(kcvPath(without(0x108a, 0x1081))).toBeUndefined();
    expect(rsaSignPath(without(0x0040))).toBe('digestinfo');
    expect(row(without(0x0040), 'root sign', 'rsa-3072')).toMatchObject({ path: 'fallback', mechanism: 'CKM_RSA_PKCS' });
  });
  it('an unwrap-only or wrap-only RFC 5649 mechanism is no backup; CBC-PAD is named and not used', () => {
    const wrapOnly = FULL.map((x) => (x.type === 0x210a ? { ...x, flags: ['WRAP'] } : x));
    expect(row(wrapOnly, 'backup wrap').path).toBe('refused');
    const cbc = [...without(0x210a), m(0x1085, ['ENCRYPT', 'DECRYPT', 'WRAP', 'UNWRAP'])];
    expect(row(cbc, 'backup wrap').detail).toMatch(/CKM_AES_CBC_PAD is offered, but Keyrite does not back up with it/);
  });
});

describe('the fallbacks compute what the native mechanisms compute', () => {
  const ecb = (key: Buffer) => (block: Buffer) => {
    const c = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
    c.setAutoPadding(false);
    return Buffer.concat([c.update(block), c.final()]);
  };
  it('KCV from two AES-ECB blocks is AES-CMAC(K, 0^128): NIST SP 800-38B AES-256 example subkey and an openssl-checked KCV', () => {
    const key = Buffer.from('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4', 'hex');
    // SP 800-38B D.3: L = 0xe568f681..., K1 = 0xcad1ed03299eedac2e9a99808621502f
    expect(cmacSubkey(ecb(key)(Buffer.alloc(16))).toString('hex')).toBe('cad1ed03299eedac2e9a99808621502f');
    // Against the general AES-CMAC of the test helpers (itself checked on the NIST examples).
    for (let i = 0; i < 20; i++) {
      const k = randomBytes(32);
      expect(kcvFromEcb(ecb(k))).toBe(aesCmac(k, Buffer.alloc(16)).subarray(0, 3).toString('hex'));
    }
    expect(kcvSoftware(key)).toBe(aesCmac(key, Buffer.alloc(16)).subarray(0, 3).toString('hex'));
  });
  it('RSA_PKCS over the SHA-256 DigestInfo is the SHA256_RSA_PKCS signature', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const msg = Buffer.from('keyrite');
    const viaDigestInfo = privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, sha256DigestInfo(msg));
    expect(viaDigestInfo.equals(sign('sha256', msg, createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }))))).toBe(true);
  });
});
