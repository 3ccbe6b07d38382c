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
  check('token object', a.token === true, `CKA_TOKEN is ${a.token}`);
  check('private', a.private === true, `CKA_PRIVATE is ${a.private}`);
  check('sensitive', a.sensitive === true && a.alwaysSensitive === true, `CKA_SENSITIVE ${a.sensitive}, CKA_ALWAYS_SENSITIVE ${a.alwaysSensitive}`);
  check('extractable', a.extractable === want.extractable, `CKA_EXTRACTABLE is ${a.extractable} (wanted ${want.extractable})`);
  check('generated in the token', a.local === true, `CKA_LOCAL is ${a.local}`);
  check('no derive', a.derive === false, `CKA_DERIVE is ${a.derive}`);
  if (want.algorithm === 'aes-256') check('size', a.valueLen === 32, `CKA_VALUE_LEN is ${a.valueLen}`);
  if (want.algorithm === 'rsa-3072' || want.algorithm === 'rsa-4096')
    check('size', a.modulusBits === Number(want.algorithm.slice(4)), `CKA_MODULUS_BITS is ${a.modulusBits}`);
  const params = EC_PARAMS[want.algorithm];
  if (params) check('curve', a.ecParams === params, `CKA_EC_PARAMS is ${a.ecParams}`);
  if (!isSecret) check('signs', a.sign === true, `CKA_SIGN is ${a.sign}`);
  return out;
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
