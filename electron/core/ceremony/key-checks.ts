import type { HsmSession, KeyAttributes, RootAlgorithm, RootKey, SignatureScheme } from '../hsm/types.ts';
import { sha256Hex } from '../util/files.ts';

/** The scheme a root key signs with (SPEC §3 encodings), or undefined for AES. */
export function rootSignatureScheme(alg: RootAlgorithm): SignatureScheme | undefined {
  switch (alg) {
    case 'ec-p256':
      return 'ecdsa-sha256';
    case 'ec-p384':
      return 'ecdsa-sha384';
    case 'rsa-3072':
    case 'rsa-4096':
      return 'rsa-pkcs1-sha256';
    case 'ed25519':
      return 'ed25519';
    default:
      return undefined;
  }
}

export const SIGNER_SCHEME: SignatureScheme = 'ecdsa-sha384';

const KEY_TYPE: Record<RootAlgorithm, string> = {
  'aes-256': 'AES',
  'ec-p256': 'EC',
  'ec-p384': 'EC',
  'rsa-3072': 'RSA',
  'rsa-4096': 'RSA',
  ed25519: 'EC_EDWARDS',
};

/** DER of the curve OIDs as CKA_EC_PARAMS holds them. */
const EC_PARAMS: Partial<Record<RootAlgorithm, string>> = {
  'ec-p256': '06082a8648ce3d030107',
  'ec-p384': '06052b81040022',
};

/** How a boolean attribute reads in a check's detail; an unreadable one says so, by its CKA_ name. */
export function shownFlag(cka: string, v: boolean | undefined): string {
  return v === undefined ? `${cka} cannot be read` : `${cka} is ${v}`;
}

/**
 * A check that a boolean attribute has the value wanted. Fail closed: an attribute the token would
 * not give is a failed check naming it, never taken as the safe value.
 */
export function flagCheck(name: string, cka: string, v: boolean | undefined, want: boolean, extra = ''): { name: string; ok: boolean; detail: string } {
  return { name, ok: v === want, detail: v === undefined ? `${cka} cannot be read (wanted ${want}); an unreadable attribute is never taken as ${want}` : `${cka} is ${v}${extra}` };
}

/**
 * Checks attributes read back from the token against what was asked for: a generated key that
 * is not what the plan says is a failed ceremony, not a warning.
 */
export function attributeChecks(
  a: KeyAttributes,
  want: { label: string; idHex: string; algorithm: RootAlgorithm; extractable: boolean },
): { name: string; ok: boolean; detail: string }[] {
  const out: { name: string; ok: boolean; detail: string }[] = [];
  const check = (name: string, ok: boolean, detail: string) => out.push({ name, ok, detail });
  const isSecret = want.algorithm === 'aes-256';
  check('class', a.class === (isSecret ? 'SECRET_KEY' : 'PRIVATE_KEY'), `class is ${a.class}`);
  check('key type', a.keyType === KEY_TYPE[want.algorithm], `key type is ${a.keyType}`);
  check('label', a.label === want.label, `label is '${a.label}'`);
  check('id', a.id === want.idHex, `CKA_ID is ${a.id}`);
  out.push(flagCheck('token object', 'CKA_TOKEN', a.token, true));
  out.push(flagCheck('private', 'CKA_PRIVATE', a.private, true));
  check(
    'sensitive',
    a.sensitive === true && a.alwaysSensitive === true,
    `${shownFlag('CKA_SENSITIVE', a.sensitive)}, ${shownFlag('CKA_ALWAYS_SENSITIVE', a.alwaysSensitive)}`,
  );
  out.push(flagCheck('extractable', 'CKA_EXTRACTABLE', a.extractable, want.extractable, ` (wanted ${want.extractable})`));
  out.push(flagCheck('generated in the token', 'CKA_LOCAL', a.local, true));
  out.push(flagCheck('no derive', 'CKA_DERIVE', a.derive, false));
  if (want.algorithm === 'aes-256') check('size', a.valueLen === 32, `CKA_VALUE_LEN is ${a.valueLen}`);
  if (want.algorithm === 'rsa-3072' || want.algorithm === 'rsa-4096')
    check('size', a.modulusBits === Number(want.algorithm.slice(4)), `CKA_MODULUS_BITS is ${a.modulusBits}`);
  const params = EC_PARAMS[want.algorithm];
  if (params) check('curve', a.ecParams === params, `CKA_EC_PARAMS is ${a.ecParams}`);
  if (!isSecret) out.push(flagCheck('signs', 'CKA_SIGN', a.sign, true));
  return out;
}

/**
 * After sealing: the root must read back as not extractable. Undefined when it does; otherwise why
 * not (still extractable, or CKA_EXTRACTABLE cannot be read, which is never taken as sealed).
 */
export function sealProblem(a: KeyAttributes, what: string): string | undefined {
  if (a.extractable === false) return undefined;
  return a.extractable === undefined
    ? `CKA_EXTRACTABLE of ${what} cannot be read after sealing; an unreadable attribute is never taken as sealed`
    : `the token still reports ${what} as extractable after sealing`;
}

/**
 * What identifies a key in the transcript without reading it: an AES key's KCV (computed in the
 * token), or an asymmetric key's public key (SPKI and its SHA-256), as key.generated and
 * key.recovered record them.
 */
export function keyIdentity(
  s: HsmSession,
  key: RootKey,
): { kcv?: string; spki?: Buffer; fields: { kcv: string } | { publicKey: { spki: string; sha256: string } } } {
  if (key.algorithm === 'aes-256') {
    const kcv = s.aesKcv(key.key);
    return { kcv, fields: { kcv } };
  }
  const spki = s.publicKeySpki(key.publicKey ?? key.key);
  return { spki, fields: { publicKey: { spki: spki.toString('base64'), sha256: sha256Hex(spki) } } };
}
