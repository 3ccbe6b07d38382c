/**
 * The mapping from PKCS#11 return codes to plain one-line messages, fed with pkcs11js's own error
 * class (what graphene throws). Codes SoftHSM cannot produce on demand (locked PIN, removed device)
 * are covered here; the integration tests cover the ones a real token gives.
 */
import * as pkcs11js from 'pkcs11js';
import { describe, expect, it } from 'vitest';
import { HsmError, toHsmError } from '../../electron/core/hsm/errors.ts';
import { judgeMechanisms, mechanismName } from '../../electron/core/hsm/mechanisms.ts';
import { ecdsaRawToDer, trimDer, unwrapEcPoint } from '../../electron/core/hsm/encoding.ts';

const p11 = (name: string) => new (pkcs11js as unknown as { Pkcs11Error: new (m: string) => Error }).Pkcs11Error(`${name}:${(pkcs11js as unknown as Record<string, number>)[name]}`);
const ctx = { token: 'vault', operation: 'log in' };

describe('toHsmError', () => {
  it.each([
    ['CKR_PIN_LOCKED', 'pin-locked', "PIN locked on token 'vault'; the security officer must reset it"],
    ['CKR_TOKEN_NOT_PRESENT', 'token-not-present', "token 'vault' is not present"],
    ['CKR_DEVICE_REMOVED', 'device-removed', "token 'vault' was removed"],
    ['CKR_SESSION_HANDLE_INVALID', 'session-closed', "the session with token 'vault' was closed; cannot log in"],
    ['CKR_SESSION_CLOSED', 'session-closed', "the session with token 'vault' was closed; cannot log in"],
    ['CKR_PIN_LEN_RANGE', 'pin-invalid', "the PIN for token 'vault' has a length the token does not accept"],
    ['CKR_GENERAL_ERROR', 'refused', "token 'vault' refused to log in (CKR_GENERAL_ERROR)"],
  ])('%s → %s', (ckr, code, message) => {
    const e = toHsmError(p11(ckr), ctx);
    expect(e).toBeInstanceOf(HsmError);
    expect(e).toMatchObject({ code, message, ckr, exitCode: 1 });
  });

  it('wrong PIN says how many tries are left when the token flags say so', () => {
    expect(toHsmError(p11('CKR_PIN_INCORRECT'), { ...ctx, tokenFlags: () => 0 }).message).toBe("wrong PIN for token 'vault'");
    expect(toHsmError(p11('CKR_PIN_INCORRECT'), { ...ctx, tokenFlags: () => 0x10000 }).message).toBe("wrong PIN for token 'vault', few tries left");
    expect(toHsmError(p11('CKR_PIN_INCORRECT'), { ...ctx, tokenFlags: () => 0x30000 }).message).toBe("wrong PIN for token 'vault', final try left");
  });

  it('a missing mechanism is named', () => {
    const e = toHsmError(p11('CKR_MECHANISM_INVALID'), { token: 'vault', operation: 'generate the ed25519 key', mechanism: 'CKM_EC_EDWARDS_KEY_PAIR_GEN' });
    expect(e).toMatchObject({ code: 'mechanism-missing', message: "token 'vault' lacks mechanism CKM_EC_EDWARDS_KEY_PAIR_GEN; cannot generate the ed25519 key" });
  });
});

describe('mechanisms', () => {
  it('names PKCS#11 3.0 mechanisms ourselves and unknown ones in hex', () => {
    expect(mechanismName(0x1055)).toBe('CKM_EC_EDWARDS_KEY_PAIR_GEN');
    expect(mechanismName(0x210b)).toBe('CKM_AES_KEY_WRAP_KWP');
    expect(mechanismName(0x1054)).toBe('CKM_RSA_AES_KEY_WRAP');
    expect(mechanismName(0x1041)).toBe('CKM_ECDSA');
    expect(mechanismName(0x80001234)).toBe('0x80001234');
  });

  it('judges a token without RFC 5649 wrap or EdDSA', () => {
    const mech = (type: number) => ({ type, name: mechanismName(type), minKeySize: 0, maxKeySize: 0, flags: [] });
    const rows = judgeMechanisms([0x1040, 0x1041, 0x108a, 0x1080, 0x0009, 0x1055].map(mech), 'ed25519', { exportsNeed: [{ oaepHash: 'sha256' }] });
    const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
    expect(byName['CKM_EC_EDWARDS_KEY_PAIR_GEN'].present).toBe(true);
    expect(byName['CKM_EDDSA']).toMatchObject({ present: false, type: '0x00001057' });
    expect(byName['CKM_AES_KEY_WRAP_KWP or CKM_AES_KEY_WRAP_PAD'].present).toBe(false);
    expect(byName['CKM_RSA_PKCS_OAEP'].needed).toContain('SHA256');
    expect(judgeMechanisms([], 'aes-256', { exportsNeed: [] }).some((r) => r.name === 'CKM_RSA_PKCS_OAEP')).toBe(false);
  });
});

describe('encodings', () => {
  it('turns raw r||s into DER with minimal positive integers', () => {
    const r = Buffer.alloc(32, 0);
    r[31] = 1;
    const s = Buffer.alloc(32, 0xff);
    expect(ecdsaRawToDer(Buffer.concat([r, s])).toString('hex')).toBe('3026020101022100' + 'ff'.repeat(32));
  });

  it('unwraps a DER OCTET STRING point but keeps a bare point whose length fits the curve', () => {
    const point = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)]);
    expect(unwrapEcPoint(Buffer.concat([Buffer.from([4, 65]), point]), 'P-256').equals(point)).toBe(true);
    expect(unwrapEcPoint(point, 'P-256').equals(point)).toBe(true);
  });

  it('trims zero padding after a DER SEQUENCE only', () => {
    expect(trimDer(Buffer.from('3003020101000000', 'hex')).toString('hex')).toBe('3003020101');
    expect(trimDer(Buffer.from('3003020101000001', 'hex')).toString('hex')).toBe('3003020101000001');
  });
});
