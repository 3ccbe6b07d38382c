/**
 * Keyrite's PKCS#11 layer. Everything above core/hsm/ imports from here; graphene-pk11 stays inside.
 */
import { HsmError } from './errors.ts';
import { GrapheneSession } from './session.ts';
import type { HsmSession, KwpInfo, RootAlgorithm } from './types.ts';

export * from './types.ts';
export { HsmError, toHsmError, ckrName } from './errors.ts';
export { openModule, tokenFlagNames } from './module.ts';
export { selectToken, selectOn, selectorOf, exactSelector } from './select.ts';
export { judgeMechanisms, mechanismName, CKM, type MechanismNeed } from './mechanisms.ts';
export { ecdsaRawToDer, algorithmOfSpki, trimDer } from './encoding.ts';

function graphene(session: HsmSession): GrapheneSession {
  if (!(session instanceof GrapheneSession)) throw new HsmError('refused', 'not a session opened by openModule');
  return session;
}

/**
 * Known-answer test of the token's RFC 5649 wrap: tells whether it zero-pads its input to a multiple
 * of 8 first (SoftHSM 2.6 does with CKM_AES_KEY_WRAP_PAD). Throws mechanism-missing when it has neither
 * KWP nor PAD; `ok` false when the output matches neither form.
 */
export function kwpSelfTest(session: HsmSession): { info: KwpInfo; ok: boolean } {
  const r = graphene(session).kwpSelfTest();
  if (!r) throw new HsmError('mechanism-missing', `token '${session.token.label}' has neither CKM_AES_KEY_WRAP_KWP nor CKM_AES_KEY_WRAP_PAD`);
  return r;
}

/**
 * Whether a root key of this algorithm can be wrapped on this token, found by trying with throwaway
 * session objects (nothing is left on the token). Preflight uses it before generating anything.
 */
/** Logs out and closes a session, ignoring a token that is already gone (cleanup paths). */
export function endSession(session: HsmSession | undefined): void {
  try {
    session?.logout();
  } catch {
    /* already logged out, or the token is gone */
  }
  try {
    session?.close();
  } catch {
    /* idem */
  }
}

export function probeWrappable(session: HsmSession, algorithm: RootAlgorithm): boolean {
  return graphene(session).probeWrappable(algorithm);
}

/** Whether the token lists CKM_RSA_AES_KEY_WRAP (for display; Keyrite does the two-step wrap itself). */
export function listsRsaAesKeyWrap(session: HsmSession): boolean {
  return graphene(session).listsRsaAesKeyWrap();
}
