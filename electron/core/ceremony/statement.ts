/**
 * The predicate of a completed ceremony's statement (docs/transcript.md, urn:keyrite:ceremony:v1). Shared by
 * the engine's finish() and `keyrite ceremony sign`, so that a bundle signed later carries exactly
 * the statement the engine would have signed.
 */
import { keyidOf, signerEntry, type EnvelopeSigner, type KeyritePredicate, type RootDescription } from '../transcript/dsse.ts';

export interface CeremonyPredicateInput {
  ceremonyId: string;
  title: string;
  /** Head of the whole transcript, ceremony.completed included. */
  chainHead: string;
  eventCount: number;
  root: { algorithm: string; label: string; kcv?: string; publicKeySha256?: string };
  /** In signing order: the ceremony signer, then the root when it can sign. */
  signers: EnvelopeSigner[];
}

/** The root as the statement names it: by KCV for AES, else by the SHA-256 of its SPKI. */
export function rootDescription(root: CeremonyPredicateInput['root']): RootDescription {
  return root.kcv
    ? { algorithm: root.algorithm, label: root.label, kcv: root.kcv }
    : { algorithm: root.algorithm, label: root.label, publicKeySha256: root.publicKeySha256! };
}

/**
 * The predicate names the ceremony signer as one-time: it is destroyed on the token right after the
 * envelope is written and verified (one-time-signer.ts).
 */
export function ceremonyPredicate(i: CeremonyPredicateInput): KeyritePredicate {
  const ceremony = i.signers.find((x) => x.role === 'ceremony');
  return {
    ceremonyId: i.ceremonyId,
    title: i.title,
    chainHead: i.chainHead,
    eventCount: i.eventCount,
    root: rootDescription(i.root),
    signers: i.signers.map((x) => signerEntry(x.role, x.spki)),
    ...(ceremony ? { ceremonySigner: { keyid: keyidOf(ceremony.spki), oneTime: true as const } } : {}),
  };
}
