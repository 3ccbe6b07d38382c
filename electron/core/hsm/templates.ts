/**
 * Explicit key templates for every key Keyrite creates. Nothing is left to the token's defaults: the
 * attributes a reviewer cares about (token, private, sensitive, extractable, usage) are all spelled out.
 * docs/hsm.md lists them per algorithm.
 */
import * as graphene from 'graphene-pk11';
import type { ITemplate, MechanismType } from 'graphene-pk11';
import { CKM } from './mechanisms.ts';
import { EC_PARAMS, octetString, type PublicParts } from './encoding.ts';
import type { RootAlgorithm } from './types.ts';

export const CKO = {
  PUBLIC_KEY: graphene.ObjectClass.PUBLIC_KEY,
  PRIVATE_KEY: graphene.ObjectClass.PRIVATE_KEY,
  SECRET_KEY: graphene.ObjectClass.SECRET_KEY,
} as const;

export const CKK = { RSA: 0x00, EC: 0x03, GENERIC_SECRET: 0x10, AES: 0x1f, EC_EDWARDS: 0x40 } as const;

export const KEY_TYPE_NAMES: Record<number, string> = {
  0x00: 'RSA',
  0x03: 'EC',
  0x10: 'GENERIC_SECRET',
  0x1f: 'AES',
  0x40: 'EC_EDWARDS',
};

export const RSA_EXPONENT = Buffer.from([0x01, 0x00, 0x01]); // 65537

export interface Placement {
  label: string;
  id: Buffer;
  /** Token object (true) or session object (false: probes and test recoveries). */
  token: boolean;
}

export interface KeyGenPlan {
  mechanism: MechanismType;
  mechanismName: string;
  /** Secret key template (AES). */
  secret?: ITemplate;
  /** Key pair templates. */
  publicKey?: ITemplate;
  privateKey?: ITemplate;
}

function ecParamsOf(algorithm: RootAlgorithm, edwardsParams: Buffer = EC_PARAMS.ed25519): Buffer {
  if (algorithm === 'ec-p256') return EC_PARAMS.p256;
  if (algorithm === 'ec-p384') return EC_PARAMS.p384;
  return edwardsParams;
}

/**
 * Root key: sensitive and private, extractable only so it can be wrapped for the backup and exports,
 * modifiable so CKA_EXTRACTABLE can be turned off (sealed) afterwards.
 */
function rootSecretAttrs(p: Placement): ITemplate {
  return {
    token: p.token,
    private: true,
    sensitive: true,
    extractable: true,
    modifiable: true,
    label: p.label,
    id: p.id,
  };
}

function publicAttrs(p: Placement): ITemplate {
  return { class: CKO.PUBLIC_KEY, token: p.token, private: false, modifiable: false, label: p.label, id: p.id };
}

/** Usage flags of the root key by algorithm; unwrap must set the same ones. */
export function rootUsage(algorithm: RootAlgorithm): { secret?: ITemplate; privateKey?: ITemplate; publicKey?: ITemplate } {
  switch (algorithm) {
    case 'aes-256':
      // sign/verify are CKM_AES_CMAC: the KCV is computed inside the token.
      return { secret: { encrypt: true, decrypt: true, sign: true, verify: true, wrap: false, unwrap: false, derive: false } };
    case 'ec-p256':
    case 'ec-p384':
    case 'ed25519':
      return {
        privateKey: { sign: true, decrypt: false, unwrap: false, derive: false },
        publicKey: { verify: true, encrypt: false, wrap: false, derive: false },
      };
    case 'rsa-3072':
    case 'rsa-4096':
      return {
        privateKey: { sign: true, decrypt: true, unwrap: false, derive: false },
        publicKey: { verify: true, encrypt: true, wrap: false },
      };
  }
}

export function keyTypeOf(algorithm: RootAlgorithm): number {
  if (algorithm === 'aes-256') return CKK.AES;
  if (algorithm === 'ed25519') return CKK.EC_EDWARDS;
  if (algorithm.startsWith('rsa')) return CKK.RSA;
  return CKK.EC;
}

export function rootKeyGen(algorithm: RootAlgorithm, p: Placement, opts: { rsaBits?: number; edwardsParams?: Buffer } = {}): KeyGenPlan {
  const usage = rootUsage(algorithm);
  const keyType = keyTypeOf(algorithm);
  if (algorithm === 'aes-256') {
    return {
      mechanism: { name: CKM.AES_KEY_GEN, params: null },
      mechanismName: 'CKM_AES_KEY_GEN',
      secret: { class: CKO.SECRET_KEY, keyType, valueLen: 32, ...rootSecretAttrs(p), ...usage.secret },
    };
  }
  const privateKey = { class: CKO.PRIVATE_KEY, keyType, ...rootSecretAttrs(p), ...usage.privateKey };
  if (algorithm === 'rsa-3072' || algorithm === 'rsa-4096') {
    const bits = opts.rsaBits ?? (algorithm === 'rsa-3072' ? 3072 : 4096);
    return {
      mechanism: { name: CKM.RSA_PKCS_KEY_PAIR_GEN, params: null },
      mechanismName: 'CKM_RSA_PKCS_KEY_PAIR_GEN',
      publicKey: { ...publicAttrs(p), keyType, modulusBits: bits, publicExponent: RSA_EXPONENT, ...usage.publicKey },
      privateKey,
    };
  }
  const edwards = algorithm === 'ed25519';
  return {
    mechanism: { name: edwards ? CKM.EC_EDWARDS_KEY_PAIR_GEN : CKM.EC_KEY_PAIR_GEN, params: null },
    mechanismName: edwards ? 'CKM_EC_EDWARDS_KEY_PAIR_GEN' : 'CKM_EC_KEY_PAIR_GEN',
    publicKey: { ...publicAttrs(p), keyType, paramsEC: ecParamsOf(algorithm, opts.edwardsParams), ...usage.publicKey },
    privateKey,
  };
}

/**
 * The transcript signer: never extractable, sign only, not modifiable. EC P-384 by preference;
 * P-256 or RSA-3072 where the token has no P-384 (capabilities.ts).
 */
export function signerKeyGen(p: Placement, algorithm: 'ec-p384' | 'ec-p256' | 'rsa-3072' = 'ec-p384'): KeyGenPlan {
  const rsa = algorithm === 'rsa-3072';
  const privateKey: ITemplate = {
    class: CKO.PRIVATE_KEY,
    keyType: rsa ? CKK.RSA : CKK.EC,
    token: p.token,
    private: true,
    sensitive: true,
    extractable: false,
    modifiable: false,
    label: p.label,
    id: p.id,
    sign: true,
    decrypt: false,
    unwrap: false,
    derive: false,
  };
  if (rsa) {
    return {
      mechanism: { name: CKM.RSA_PKCS_KEY_PAIR_GEN, params: null },
      mechanismName: 'CKM_RSA_PKCS_KEY_PAIR_GEN',
      publicKey: { ...publicAttrs(p), keyType: CKK.RSA, modulusBits: 3072, publicExponent: RSA_EXPONENT, verify: true, encrypt: false, wrap: false },
      privateKey,
    };
  }
  return {
    mechanism: { name: CKM.EC_KEY_PAIR_GEN, params: null },
    mechanismName: 'CKM_EC_KEY_PAIR_GEN',
    publicKey: { ...publicAttrs(p), keyType: CKK.EC, paramsEC: ecParamsOf(algorithm), verify: true, encrypt: false, wrap: false, derive: false },
    privateKey,
  };
}

/** Template for a key unwrapped from a backup: the same type, usage and protection as at generation. */
export function unwrapTemplate(algorithm: RootAlgorithm, p: Placement): ITemplate {
  const usage = rootUsage(algorithm);
  const keyType = keyTypeOf(algorithm);
  // No CKA_VALUE_LEN: SoftHSM refuses it in an unwrap template (CKR_ATTRIBUTE_READ_ONLY).
  if (algorithm === 'aes-256') return { class: CKO.SECRET_KEY, keyType, ...rootSecretAttrs(p), ...usage.secret };
  return { class: CKO.PRIVATE_KEY, keyType, ...rootSecretAttrs(p), ...usage.privateKey };
}

/** Public key object created from an SPKI (the public half of an unwrapped key pair). */
export function publicKeyFromParts(algorithm: RootAlgorithm, parts: PublicParts, p: Placement): ITemplate {
  const usage = rootUsage(algorithm).publicKey ?? {};
  const base = { ...publicAttrs(p), keyType: keyTypeOf(algorithm), ...usage };
  if (parts.kind === 'rsa') return { ...base, modulus: parts.modulus, publicExponent: parts.exponent };
  return { ...base, paramsEC: ecParamsOf(algorithm), pointEC: octetString(parts.point) };
}
