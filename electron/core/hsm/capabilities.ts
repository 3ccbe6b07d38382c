/**
 * What a ceremony needs from a token, judged from its mechanism list: flags (a mechanism offered
 * for encrypt only is no use for wrapping) and key-size ranges (RSA-4096 on a token whose maximum
 * is 3072 is refused). Prefer the native mechanism, fall back where a standard alternative gives
 * the same result, refuse otherwise. `hsm list` and the ceremony preflight both call this, so they
 * cannot disagree; capability-probe.ts then proves the choice with throwaway session objects.
 */
import { CKM, mechanismName } from './mechanisms.ts';
import type { MechanismInfo, RootAlgorithm } from './types.ts';

export type CapabilityPath = 'native' | 'fallback' | 'refused';

/** One row of hsm.selected.data.capabilities. */
export interface Capability {
  capability: string;
  path: CapabilityPath;
  mechanism: string;
  detail: string;
}

/** Transcript signers Keyrite can make: P-384 by preference, then P-256, then RSA-3072. */
export type SignerAlgorithm = 'ec-p384' | 'ec-p256' | 'rsa-3072';
export const SIGNER_ALGORITHMS: readonly SignerAlgorithm[] = ['ec-p384', 'ec-p256', 'rsa-3072'];

export interface CapabilityPlan {
  rows: Capability[];
  ok: boolean;
  signer?: SignerAlgorithm;
  kcv?: 'cmac' | 'ecb';
  rsaSign?: 'native' | 'digestinfo';
  /** The RFC 5649 mechanism: KWP preferred, else PAD (its output is checked by the known-answer test). */
  kwp?: number;
}

const CKM_AES_ECB = 0x1081;
const CKM_RSA_PKCS = 0x0001;
const CKM_AES_CBC_PAD = 0x1085;

/** A size range that says nothing (0..0, or a max of 0) does not refuse anything. */
function sizeFits(m: MechanismInfo, ...sizes: number[]): boolean {
  if (!m.maxKeySize) return true;
  return sizes.some((s) => s >= m.minKeySize && s <= m.maxKeySize);
}

function find(mechs: MechanismInfo[], type: number, flag: string): MechanismInfo | undefined {
  return mechs.find((m) => m.type === type && m.flags.includes(flag));
}

/** Whether `type` is listed but without `flag` (for the refusal's reason). */
function listedWithout(mechs: MechanismInfo[], type: number, flag: string): string {
  const m = mechs.find((x) => x.type === type);
  if (!m) return `the token does not list ${mechanismName(type)}`;
  return `${mechanismName(type)} is listed for ${m.flags.join('/') || 'nothing'}, not ${flag}`;
}

/** AES sizes are bytes in PKCS#11 2.40; some tokens report bits. */
const AES256 = [32, 256];
const SIZES: Record<RootAlgorithm, number[]> = {
  'aes-256': AES256,
  'ec-p256': [256],
  'ec-p384': [384],
  'rsa-3072': [3072],
  'rsa-4096': [4096],
  ed25519: [255, 256],
};
const KEYGEN: Record<RootAlgorithm, [number, string]> = {
  'aes-256': [CKM.AES_KEY_GEN, 'GENERATE'],
  'ec-p256': [CKM.EC_KEY_PAIR_GEN, 'GENERATE_KEY_PAIR'],
  'ec-p384': [CKM.EC_KEY_PAIR_GEN, 'GENERATE_KEY_PAIR'],
  'rsa-3072': [CKM.RSA_PKCS_KEY_PAIR_GEN, 'GENERATE_KEY_PAIR'],
  'rsa-4096': [CKM.RSA_PKCS_KEY_PAIR_GEN, 'GENERATE_KEY_PAIR'],
  ed25519: [CKM.EC_EDWARDS_KEY_PAIR_GEN, 'GENERATE_KEY_PAIR'],
};

/** Keygen of this algorithm at this size: the mechanism, with the flag, in its size range. */
export function canGenerate(mechs: MechanismInfo[], alg: RootAlgorithm): { ok: boolean; why: string } {
  const [type, flag] = KEYGEN[alg];
  const m = find(mechs, type, flag);
  if (!m) return { ok: false, why: listedWithout(mechs, type, flag) };
  if (!sizeFits(m, ...SIZES[alg])) return { ok: false, why: `${mechanismName(type)} takes ${m.minKeySize}..${m.maxKeySize}, not ${SIZES[alg][0]}` };
  return { ok: true, why: `${mechanismName(type)} (${m.minKeySize}..${m.maxKeySize})` };
}

/** RSA PKCS#1 v1.5 SHA-256 signing: CKM_SHA256_RSA_PKCS, else CKM_RSA_PKCS with the DigestInfo made in software. */
export function rsaSignPath(mechs: MechanismInfo[]): 'native' | 'digestinfo' | undefined {
  if (find(mechs, CKM.SHA256_RSA_PKCS, 'SIGN')) return 'native';
  if (find(mechs, CKM_RSA_PKCS, 'SIGN')) return 'digestinfo';
  return undefined;
}

/** KCV: CKM_AES_CMAC, else two CKM_AES_ECB encryptions giving the same CMAC (kcv-ecb.ts). */
export function kcvPath(mechs: MechanismInfo[]): 'cmac' | 'ecb' | undefined {
  if (find(mechs, CKM.AES_CMAC, 'SIGN')) return 'cmac';
  if (find(mechs, CKM_AES_ECB, 'ENCRYPT')) return 'ecb';
  return undefined;
}

/** RFC 5649 for the backup: KWP, else PAD, offered for both wrap and unwrap. */
export function kwpType(mechs: MechanismInfo[]): number | undefined {
  for (const t of [CKM.AES_KEY_WRAP_KWP, CKM.AES_KEY_WRAP_PAD]) if (find(mechs, t, 'WRAP') && find(mechs, t, 'UNWRAP')) return t;
  return undefined;
}

function signWith(mechs: MechanismInfo[], alg: RootAlgorithm | SignerAlgorithm): Capability & { ok: boolean } {
  const row = (path: CapabilityPath, type: number, detail: string) => ({ capability: '', path, mechanism: mechanismName(type), detail, ok: path !== 'refused' });
  if (alg.startsWith('rsa')) {
    const p = rsaSignPath(mechs);
    if (p === 'native') return row('native', CKM.SHA256_RSA_PKCS, 'RSA PKCS#1 v1.5 SHA-256 in the token');
    if (p === 'digestinfo') return row('fallback', CKM_RSA_PKCS, 'no CKM_SHA256_RSA_PKCS: SHA-256 DigestInfo built in software, CKM_RSA_PKCS pads and signs in the token (same signature)');
    return row('refused', CKM.SHA256_RSA_PKCS, `${listedWithout(mechs, CKM.SHA256_RSA_PKCS, 'SIGN')}, nor CKM_RSA_PKCS for SIGN`);
  }
  if (alg === 'ed25519') return find(mechs, CKM.EDDSA, 'SIGN') ? row('native', CKM.EDDSA, 'Ed25519 in the token') : row('refused', CKM.EDDSA, listedWithout(mechs, CKM.EDDSA, 'SIGN'));
  const m = find(mechs, CKM.ECDSA, 'SIGN');
  if (!m) return row('refused', CKM.ECDSA, listedWithout(mechs, CKM.ECDSA, 'SIGN'));
  return row('native', CKM.ECDSA, 'hash in software, CKM_ECDSA in the token');
}

/**
 * The capability table for a ceremony with this root and (when `exports` > 0) KMS exports.
 * `tokenFlags` adds the token's random generator.
 */
export function judgeCapabilities(mechs: MechanismInfo[], algorithm: RootAlgorithm, opts: { exports?: number; tokenFlags?: string[] } = {}): CapabilityPlan {
  const rows: Capability[] = [];
  const add = (capability: string, path: CapabilityPath, mechanism: string, detail: string) => rows.push({ capability, path, mechanism, detail });
  const plan: CapabilityPlan = { rows, ok: true };

  if (opts.tokenFlags) {
    const rng = opts.tokenFlags.includes('RNG');
    add('random', rng ? 'native' : 'refused', 'C_GenerateRandom', rng ? 'backup key and ids from the token generator' : 'the token has no random generator (CKF_RNG)');
  }

  // Transcript signer: P-384, then P-256, then RSA-3072 (each must generate and sign).
  const why: string[] = [];
  for (const s of SIGNER_ALGORITHMS) {
    const gen = canGenerate(mechs, s);
    const sign = signWith(mechs, s);
    if (gen.ok && sign.ok) {
      plan.signer = s;
      const fallback = s !== 'ec-p384' || sign.path === 'fallback';
      add('signer', fallback ? 'fallback' : 'native', `${mechanismName(KEYGEN[s][0])} + ${sign.mechanism}`, `${s} transcript signer${s !== 'ec-p384' ? ` (no usable EC P-384: ${why.join('; ')})` : ''}; ${sign.detail}`);
      break;
    }
    why.push(`${s}: ${gen.ok ? sign.detail : gen.why}`);
  }
  if (!plan.signer) add('signer', 'refused', mechanismName(CKM.EC_KEY_PAIR_GEN), `no transcript signer possible: ${why.join('; ')}`);

  const gen = canGenerate(mechs, algorithm);
  add('root keygen', gen.ok ? 'native' : 'refused', mechanismName(KEYGEN[algorithm][0]), gen.ok ? `${algorithm}: ${gen.why}` : `${algorithm}: ${gen.why}`);

  if (algorithm !== 'aes-256') {
    const sign = signWith(mechs, algorithm);
    add('root sign', sign.path, sign.mechanism, `${algorithm} proof of possession: ${sign.detail}`);
  }

  plan.kcv = kcvPath(mechs);
  if (plan.kcv === 'cmac') add('kcv', 'native', 'CKM_AES_CMAC', 'AES-CMAC of 16 zero bytes in the token');
  else if (plan.kcv === 'ecb') add('kcv', 'fallback', 'CKM_AES_ECB', 'no CKM_AES_CMAC for SIGN: the same CMAC from two AES-ECB encryptions (docs/hsm.md)');
  else add('kcv', 'refused', 'CKM_AES_CMAC', `${listedWithout(mechs, CKM.AES_CMAC, 'SIGN')}, nor CKM_AES_ECB for ENCRYPT`);

  plan.kwp = kwpType(mechs);
  const kwpName = plan.kwp === undefined ? 'CKM_AES_KEY_WRAP_KWP' : mechanismName(plan.kwp);
  if (plan.kwp !== undefined) {
    add('backup wrap', 'native', kwpName, `RFC 5649 wrap of the ${algorithm} root (kind proven at login with a throwaway key)`);
    add('backup unwrap', 'native', kwpName, `RFC 5649 unwrap of a ${algorithm} key back (proven at login with a throwaway key)`);
  } else {
    const cbc = find(mechs, CKM_AES_CBC_PAD, 'WRAP') ? '; CKM_AES_CBC_PAD is offered, but Keyrite does not back up with it (no integrity check; sheets and by-hand recovery are RFC 5649: docs/hsm.md)' : '';
    const detail = `neither CKM_AES_KEY_WRAP_KWP nor CKM_AES_KEY_WRAP_PAD is offered for both WRAP and UNWRAP${cbc}`;
    add('backup wrap', 'refused', kwpName, detail);
    add('backup unwrap', 'refused', kwpName, 'no RFC 5649 mechanism (see backup wrap)');
  }

  if (opts.exports) {
    const oaep = find(mechs, CKM.RSA_PKCS_OAEP, 'WRAP');
    add('export wrap', oaep ? 'native' : 'refused', 'CKM_RSA_PKCS_OAEP', oaep ? 'RSA-OAEP wrap for the KMS exports (hashes proven at login)' : listedWithout(mechs, CKM.RSA_PKCS_OAEP, 'WRAP'));
    const eph = canGenerate(mechs, 'aes-256');
    add('export ephemeral key', eph.ok ? 'native' : 'refused', 'CKM_AES_KEY_GEN', eph.ok ? 'ephemeral AES-256 key of the RSA-AES exports' : eph.why);
  }
  plan.rsaSign = rsaSignPath(mechs);
  plan.ok = rows.every((r) => r.path !== 'refused');
  return plan;
}

/** "kcv: no CKM_AES_CMAC ...; backup wrap: ..." naming every refused capability. */
export function refusals(plan: CapabilityPlan): string {
  return plan.rows
    .filter((r) => r.path === 'refused')
    .map((r) => `${r.capability}: ${r.detail}`)
    .join('; ');
}
