/**
 * After a recovery, the restored key must allow exactly what the ceremony's root allowed: a token
 * that ignores the unwrap template (NSS sets CKA_UNWRAP on an unwrapped RSA private key) would
 * otherwise hand back a root with more powers than the one that was reviewed and generated.
 */
import { USAGE_FLAGS, type HsmSession, type KeyAttributes, type KeyRef, type RootAlgorithm, type UsageFlag } from '../hsm/types.ts';
import { HsmError } from '../hsm/errors.ts';
import { rootUsage } from '../hsm/templates.ts';

export interface UsageDiff {
  flag: UsageFlag;
  want: boolean;
  got: boolean | undefined;
  /** On the public key object (created from the recorded SPKI) rather than the private key. */
  public?: boolean;
}

/** The ceremony's recorded value of each usage flag; where it recorded none, the template Keyrite asked for. */
export function wantedUsage(ceremony: Partial<KeyAttributes> | undefined, algorithm: RootAlgorithm): Partial<Record<UsageFlag, boolean>> {
  const t = (rootUsage(algorithm).secret ?? rootUsage(algorithm).privateKey ?? {}) as Record<string, unknown>;
  const out: Partial<Record<UsageFlag, boolean>> = {};
  for (const f of USAGE_FLAGS) {
    const recorded = ceremony?.[f];
    if (typeof recorded === 'boolean') out[f] = recorded;
    else if (typeof t[f] === 'boolean') out[f] = t[f] as boolean;
  }
  return out;
}

/** The public key object's usage flags, as Keyrite's template sets them at generation and at recovery alike. */
export function wantedPublicUsage(algorithm: RootAlgorithm): Partial<Record<UsageFlag, boolean>> {
  const t = (rootUsage(algorithm).publicKey ?? {}) as Record<string, unknown>;
  const out: Partial<Record<UsageFlag, boolean>> = {};
  for (const f of USAGE_FLAGS) if (typeof t[f] === 'boolean') out[f] = t[f] as boolean;
  return out;
}

/** Flags whose value differs; a flag the token does not report counts as different only where it should be true. */
export function usageDiffs(want: Partial<Record<UsageFlag, boolean>>, got: KeyAttributes): UsageDiff[] {
  const out: UsageDiff[] = [];
  for (const f of USAGE_FLAGS) {
    const w = want[f];
    if (w === undefined) continue;
    const g = got[f];
    if (g === undefined ? w : g !== w) out.push({ flag: f, want: w, got: g });
  }
  return out;
}

export const describeDiffs = (d: UsageDiff[]) => d.map((x) => `${x.public ? 'public key ' : ''}CKA_${x.flag.toUpperCase()} ${x.got ?? 'not reported'} (ceremony: ${x.want})`).join(', ');

/**
 * Makes the restored key's usage flags the ceremony's: reads them, sets the differing ones with
 * C_SetAttributeValue, reads again. Returns what was corrected; throws attribute-mismatch (the
 * caller then removes what the recovery made) when the token refuses or keeps a different value.
 */
export function enforceUsage(s: HsmSession, key: KeyRef, want: Partial<Record<UsageFlag, boolean>>): UsageDiff[] {
  const before = usageDiffs(want, s.readAttributes(key)).map((d) => (key.kind === 'public' ? { ...d, public: true } : d));
  if (before.length === 0) return [];
  const fix: Partial<Record<UsageFlag, boolean>> = {};
  for (const d of before) fix[d.flag] = d.want;
  let refusal = '';
  try {
    s.setAttributes(key, fix);
  } catch (err) {
    if (!(err instanceof HsmError)) throw err;
    refusal = ` and refused to change them (${err.ckr ?? err.message})`;
  }
  const after = usageDiffs(want, s.readAttributes(key)).map((d) => (key.kind === 'public' ? { ...d, public: true } : d));
  if (after.length)
    throw new HsmError('attribute-mismatch', `token '${s.token.label}' ignored the recovery template: the restored key has ${describeDiffs(after)}${refusal || ' and kept them after C_SetAttributeValue'}`);
  return before;
}
