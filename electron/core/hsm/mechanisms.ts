import * as graphene from 'graphene-pk11';
import type { MechanismInfo, OaepHash, RootAlgorithm } from './types.ts';

/** CKM_* numbers the ceremony uses, including the PKCS#11 3.0 ones graphene has no name for. */
export const CKM = {
  RSA_PKCS_KEY_PAIR_GEN: 0x0000,
  RSA_PKCS_OAEP: 0x0009,
  SHA256_RSA_PKCS: 0x0040,
  SHA_1: 0x0220,
  SHA256: 0x0250,
  EC_KEY_PAIR_GEN: 0x1040,
  ECDSA: 0x1041,
  RSA_AES_KEY_WRAP: 0x1054,
  EC_EDWARDS_KEY_PAIR_GEN: 0x1055,
  EDDSA: 0x1057,
  AES_KEY_GEN: 0x1080,
  AES_CMAC: 0x108a,
  AES_KEY_WRAP: 0x2109,
  AES_KEY_WRAP_PAD: 0x210a,
  AES_KEY_WRAP_KWP: 0x210b,
} as const;

/** Our names for mechanisms newer than graphene's table. */
const OWN_NAMES: Record<number, string> = {
  [CKM.RSA_AES_KEY_WRAP]: 'CKM_RSA_AES_KEY_WRAP',
  [CKM.EC_EDWARDS_KEY_PAIR_GEN]: 'CKM_EC_EDWARDS_KEY_PAIR_GEN',
  [CKM.EDDSA]: 'CKM_EDDSA',
  [CKM.AES_CMAC]: 'CKM_AES_CMAC',
  [CKM.AES_KEY_WRAP_PAD]: 'CKM_AES_KEY_WRAP_PAD',
  [CKM.AES_KEY_WRAP_KWP]: 'CKM_AES_KEY_WRAP_KWP',
};

export function hexType(type: number): string {
  return '0x' + type.toString(16).padStart(8, '0');
}

/** "CKM_AES_KEY_WRAP_PAD", or "0x00001055" when neither we nor graphene know the number. */
export function mechanismName(type: number): string {
  const own = OWN_NAMES[type];
  if (own) return own;
  const g = (graphene.MechanismEnum as unknown as Record<number, string | undefined>)[type];
  return typeof g === 'string' ? `CKM_${g}` : hexType(type);
}

/** Names of the CKF_* bits set in a mechanism's flags. */
export function mechanismFlagNames(flags: number): string[] {
  const out: string[] = [];
  for (const [name, bit] of Object.entries(graphene.MechanismFlag)) {
    if (typeof bit === 'number' && bit !== 0 && (flags & bit) === bit) out.push(name);
  }
  return out;
}

export interface MechanismNeed {
  name: string;
  /** Hex CKM number of what was found (or what is wanted when absent). */
  type: string;
  /** Why the ceremony needs it. */
  needed: string;
  present: boolean;
}

const KEYGEN: Record<RootAlgorithm, number> = {
  'aes-256': CKM.AES_KEY_GEN,
  'ec-p256': CKM.EC_KEY_PAIR_GEN,
  'ec-p384': CKM.EC_KEY_PAIR_GEN,
  'rsa-3072': CKM.RSA_PKCS_KEY_PAIR_GEN,
  'rsa-4096': CKM.RSA_PKCS_KEY_PAIR_GEN,
  'ed25519': CKM.EC_EDWARDS_KEY_PAIR_GEN,
};

const ROOT_SIGN: Record<RootAlgorithm, number> = {
  'aes-256': CKM.AES_CMAC,
  'ec-p256': CKM.ECDSA,
  'ec-p384': CKM.ECDSA,
  'rsa-3072': CKM.SHA256_RSA_PKCS,
  'rsa-4096': CKM.SHA256_RSA_PKCS,
  'ed25519': CKM.EDDSA,
};

/**
 * Which mechanisms a ceremony for `algorithm` needs and whether the token lists them. Pure: it judges
 * the list only (SHA-256 OAEP and whether a key type can be wrapped are found by trying; see
 * `probeWrappable` and `wrapOaep`). Pass `tokenFlags` to add the token's random generator.
 */
export function judgeMechanisms(
  mechs: MechanismInfo[],
  algorithm: RootAlgorithm,
  opts: { exportsNeed?: { oaepHash?: OaepHash }[]; tokenFlags?: string[] } = {},
): MechanismNeed[] {
  const has = new Set(mechs.map((m) => m.type));
  const rows: MechanismNeed[] = [];
  const add = (type: number, needed: string) => {
    const name = mechanismName(type);
    const row = rows.find((r) => r.name === name);
    if (row) row.needed += `; ${needed}`;
    else rows.push({ name, type: hexType(type), needed, present: has.has(type) });
  };
  add(KEYGEN[algorithm], `generate the ${algorithm} root key`);
  if (algorithm === 'aes-256') add(CKM.AES_CMAC, 'KCV of the root key');
  else add(ROOT_SIGN[algorithm], `sign with the ${algorithm} root key (proof of possession)`);
  add(CKM.EC_KEY_PAIR_GEN, 'generate the EC P-384 ceremony signer');
  add(CKM.ECDSA, 'sign the transcript with the ceremony signer');
  add(CKM.AES_CMAC, 'KCV of the backup key');

  const kwp = has.has(CKM.AES_KEY_WRAP_KWP) ? CKM.AES_KEY_WRAP_KWP : CKM.AES_KEY_WRAP_PAD;
  rows.push({
    name: 'CKM_AES_KEY_WRAP_KWP or CKM_AES_KEY_WRAP_PAD',
    type: hexType(kwp),
    needed: 'RFC 5649 wrap of the root key for the backup and exports',
    present: has.has(CKM.AES_KEY_WRAP_KWP) || has.has(CKM.AES_KEY_WRAP_PAD),
  });
  const exportsNeed = opts.exportsNeed;
  if (exportsNeed === undefined || exportsNeed.length > 0) {
    const hashes = [...new Set((exportsNeed ?? []).map((e) => e.oaepHash).filter(Boolean))];
    add(CKM.RSA_PKCS_OAEP, `RSA-OAEP wrap for KMS exports${hashes.length ? ` (${hashes.join(', ').toUpperCase()})` : ''}`);
    add(CKM.AES_KEY_GEN, 'ephemeral AES-256 key for RSA-AES exports');
  }
  if (opts.tokenFlags) {
    rows.push({
      name: 'C_GenerateRandom',
      type: 'CKF_RNG',
      needed: 'backup key and ids from the token generator',
      present: opts.tokenFlags.includes('RNG'),
    });
  }
  return rows;
}
