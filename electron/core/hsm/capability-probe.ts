/**
 * Proves, with throwaway session objects, what capabilities.ts decided from the mechanism list:
 * the signer signs, the root's kind of key is generated, signs or gets a KCV, is wrapped with
 * RFC 5649 AND unwrapped back into the same key, and can be sealed. Runs at login, before the first
 * token object exists; every object it makes is a session object, destroyed before it returns.
 * It also reads what the token says about keys it has just generated (CKA_LOCAL,
 * CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE): a token that reports these wrongly on a key proven
 * to be its own has a recorded quirk, not a failed ceremony (attribute-truth in docs/hsm.md).
 */
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { HsmError } from './errors.ts';
import type { CapabilityPlan, SignerAlgorithm } from './capabilities.ts';
import { rootUsage } from './templates.ts';
import { underlyingSession } from './session.ts';
import { USAGE_FLAGS, type HsmSession, type KeyAttributes, type KeyRef, type RootAlgorithm, type RootKey, type SignatureScheme } from './types.ts';
import { kcvSoftware as aesKcvSoftware } from './kcv-ecb.ts';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** A provenance attribute the token reports wrongly on keys it generated itself, seen on a throwaway key. */
export interface AttributeQuirk {
  attribute: 'local' | 'alwaysSensitive' | 'neverExtractable';
  reported: 'false' | 'unreported';
  /** Which throwaway key showed it. */
  provenOn: string;
}

export interface ProbeResult {
  checks: Check[];
  quirks: AttributeQuirk[];
  /** Usage flags the token set differently from the unwrap template (recovery fixes or refuses). */
  unwrapIgnores: string[];
}

const PROBE_MESSAGE = Buffer.from('keyrite capability probe: throwaway key, never used for anything else');
const SCHEME: Record<SignerAlgorithm | RootAlgorithm, SignatureScheme | undefined> = {
  'ec-p384': 'ecdsa-sha384',
  'ec-p256': 'ecdsa-sha256',
  'rsa-3072': 'rsa-pkcs1-sha256',
  'rsa-4096': 'rsa-pkcs1-sha256',
  ed25519: 'ed25519',
  'aes-256': undefined,
};

function verifies(spki: Buffer, scheme: SignatureScheme, sig: Buffer): boolean {
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  if (scheme === 'ed25519') return verify(null, PROBE_MESSAGE, key, sig);
  const hash = scheme === 'ecdsa-sha384' ? 'sha384' : 'sha256';
  return verify(hash, PROBE_MESSAGE, scheme === 'rsa-pkcs1-sha256' ? { key, padding: 1 } : key, sig);
}

function quirksOf(a: KeyAttributes, provenOn: string, expectNeverExtractable: boolean): AttributeQuirk[] {
  const out: AttributeQuirk[] = [];
  // An attribute that cannot be read is undefined (session.ts), never taken as true.
  const seen = (attr: AttributeQuirk['attribute'], value: boolean | undefined) => {
    if (value === undefined) out.push({ attribute: attr, reported: 'unreported', provenOn });
    else if (!value) out.push({ attribute: attr, reported: 'false', provenOn });
  };
  seen('local', a.local);
  seen('alwaysSensitive', a.alwaysSensitive);
  if (expectNeverExtractable) seen('neverExtractable', a.neverExtractable);
  return out;
}

function destroyAll(s: HsmSession, keys: (KeyRef | undefined)[]): void {
  for (const k of keys) {
    try {
      if (k) s.destroy(k);
    } catch {
      /* session objects vanish with the session anyway */
    }
  }
}

function failure(err: unknown): string {
  if (err instanceof HsmError) return err.message;
  throw err;
}

/** Runs one proof; a token refusal becomes a failed check naming it, anything else is a bug and is thrown. */
function attempt(checks: Check[], name: string, fn: () => string): boolean {
  try {
    checks.push({ name, ok: true, detail: fn() });
    return true;
  } catch (err) {
    checks.push({ name, ok: false, detail: failure(err) });
    return false;
  }
}

/**
 * Proofs run on the session underneath any wrapper (fault injection counts the ceremony's own layer
 * calls, "the first wrapKwp", and these are not those); the C_* calls are the same either way.
 */
export function proveCapabilities(session: HsmSession, algorithm: RootAlgorithm, plan: CapabilityPlan): ProbeResult {
  const s = underlyingSession(session);
  const checks: Check[] = [];
  const quirks: AttributeQuirk[] = [];
  const unwrapIgnores: string[] = [];
  const made: (KeyRef | undefined)[] = [];
  try {
    if (plan.signer) {
      const alg = plan.signer;
      attempt(checks, `capability: ${alg} signer`, () => {
        const k = s.generateSessionKey('signer', alg, 'keyrite-probe-signer');
        made.push(k.key, k.publicKey);
        const spki = s.publicKeySpki(k.publicKey ?? k.key);
        const scheme = SCHEME[alg]!;
        if (!verifies(spki, scheme, s.sign(k.key, scheme, PROBE_MESSAGE))) throw new HsmError('refused', `a throwaway ${alg} signer's ${scheme} signature does not verify`);
        quirks.push(...quirksOf(s.readAttributes(k.key), `throwaway ${alg} signer`, true));
        return `a throwaway ${alg} session key pair signed (${scheme}) and the signature verifies`;
      });
    }

    // The root's kind of key. RSA at 2048 bits (1024 where allowed) is enough to prove the type; the size was judged from the flags.
    let probe: RootKey | undefined;
    const sizes = algorithm.startsWith('rsa') ? [1024, 2048] : [undefined];
    attempt(checks, `capability: ${algorithm} key`, () => {
      for (const [i, rsaBits] of sizes.entries()) {
        try {
          probe = s.generateSessionKey('root', algorithm, 'keyrite-probe-root', { rsaBits });
          break;
        } catch (err) {
          if (i === sizes.length - 1 || !(err instanceof HsmError) || err.code !== 'refused') throw err;
        }
      }
      made.push(probe!.key, probe!.publicKey);
      quirks.push(...quirksOf(s.readAttributes(probe!.key), `throwaway ${algorithm} key`, false));
      const scheme = SCHEME[algorithm];
      if (!scheme) return `a throwaway ${algorithm} session key was generated`;
      const spki = s.publicKeySpki(probe!.publicKey ?? probe!.key);
      if (!verifies(spki, scheme, s.sign(probe!.key, scheme, PROBE_MESSAGE))) throw new HsmError('refused', `a throwaway ${algorithm} key's ${scheme} signature does not verify`);
      return `a throwaway ${algorithm} session key was generated and signed (${scheme})`;
    });

    // KCV on a known key, against the software AES-CMAC: the fallback gives the very same value.
    attempt(checks, `capability: kcv (${plan.kcv === 'ecb' ? 'AES-ECB fallback' : 'AES-CMAC'})`, () => {
      const value = randomBytes(32);
      const k = s.importAesKey(value, 'keyrite-probe-kcv', { sign: true });
      made.push(k);
      const want = aesKcvSoftware(value);
      value.fill(0);
      const got = s.aesKcv(k);
      if (got !== want) throw new HsmError('refused', `the token's KCV ${got} is not the AES-CMAC ${want} of a known key`);
      return `the KCV of a throwaway known key matches AES-CMAC computed in software`;
    });

    if (probe) {
      attempt(checks, `capability: backup wrap and unwrap of ${algorithm}`, () => {
        const kek = s.importAesKey(randomBytes(32), 'keyrite-probe-kek', { wrap: true, unwrap: true });
        made.push(kek);
        const { wrapped, info } = s.wrapKwp(kek, probe!.key);
        const spki = probe!.publicKey ? s.publicKeySpki(probe!.publicKey) : undefined;
        const back = s.unwrapKwp(kek, wrapped, { algorithm, label: 'keyrite-probe-unwrapped', id: Buffer.from('probe'), asToken: false, publicSpki: spki });
        made.push(back.key, back.publicKey);
        const scheme = SCHEME[algorithm];
        const same = scheme ? verifies(spki!, scheme, s.sign(back.key, scheme, PROBE_MESSAGE)) : s.aesKcv(back.key) === s.aesKcv(probe!.key);
        if (!same) throw new HsmError('refused', `the ${algorithm} key unwrapped with ${info.mechanism} is not the key that was wrapped`);
        const want = { ...(rootUsage(algorithm).secret ?? rootUsage(algorithm).privateKey) } as Record<string, boolean>;
        const got = s.readAttributes(back.key) as unknown as Record<string, boolean | undefined>;
        for (const f of USAGE_FLAGS) if (f in want && got[f] !== undefined && got[f] !== want[f]) unwrapIgnores.push(`CKA_${f.toUpperCase()} ${got[f]} (asked ${want[f]})`);
        return `a throwaway ${algorithm} key wrapped with ${info.mechanism} unwraps back into the same key${unwrapIgnores.length ? `; the token ignores the unwrap template for ${unwrapIgnores.join(', ')} (a recovery corrects it or refuses)` : ''}`;
      });
      attempt(checks, 'capability: seal', () => {
        s.setAttributes(probe!.key, { extractable: false });
        const after = s.readAttributes(probe!.key);
        if (after.extractable) throw new HsmError('refused', 'the token still reports a throwaway key as extractable after C_SetAttributeValue CKA_EXTRACTABLE false');
        return 'CKA_EXTRACTABLE can be turned off and reads back false';
      });
    }
  } finally {
    destroyAll(s, made);
  }
  // One quirk per attribute: the first key that showed it.
  const unique = quirks.filter((q, i) => quirks.findIndex((x) => x.attribute === q.attribute) === i);
  return { checks, quirks: unique, unwrapIgnores };
}

