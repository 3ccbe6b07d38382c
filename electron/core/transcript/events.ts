/**
 * The transcript's event catalogue (SPEC §3). Required events and fields come from the SPEC; the
 * others are Keyrite's own and documented in docs/transcript.md. No event ever holds a secret.
 *
 * Every line of transcript.jsonl is the JCS form of:
 *   { v: 1, seq, time, type, actor, data, prev }
 */

export interface TranscriptEvent<T extends string = string, D = Record<string, unknown>> {
  v: 1;
  seq: number;
  /** UTC RFC 3339 with milliseconds, e.g. 2026-11-22T14:07:15.123Z; never decreasing. */
  time: string;
  type: T;
  /** A participant id from the plan, or "system". */
  actor: string;
  data: D;
  /** Hash of the previous line; 64 zeros for seq 0. */
  prev: string;
}

export const GENESIS_PREV = '0'.repeat(64);

export interface NetworkInterfaceRecord {
  name: string;
  /** True when the interface is up with an address other than loopback. */
  up: boolean;
  internal: boolean;
  addresses: string[];
  /** Linux's link state from /sys/class/net/<name>/operstate ("up", "down", "unknown", ...). */
  operstate?: string;
}

/** data of each event type. Fields marked required by the SPEC must be present; others are extra. */
export interface EventData {
  /** First event of a ceremony. */
  'ceremony.started': {
    ceremonyId: string;
    title: string;
    planSha256: string;
    /** `code`: digest of the program that ran (core/code.ts): the compiled CLI, or the app's asar, with pkcs11js's native module. */
    app: { name: string; version: string; code?: { sha256: string; what: string } };
    host: { platform: string; arch: string; release?: string; hostname?: string; networkInterfaces: NetworkInterfaceRecord[] };
    /** "cli", "desktop" or "demo". */
    frontEnd: string;
    /** True for rehearsals (`ceremony run --rehearsal`, demo, the app's rehearsal mode). */
    rehearsal: boolean;
    participants: { id: string; name: string; role: string }[];
    /** The key's life (SPEC §8, docs/lifecycle.md): "generate", "rotate", "destroy"; absent in older bundles (= generate). */
    kind?: string;
    /** The newest version of the key once this ceremony is done. */
    keyVersion?: number;
    /** The ceremony this one continues, pinned by its statement digest (every kind but generate). */
    previous?: { ceremonyId: string; statementSha256: string };
  };
  'participant.checked-in': { participant: string; role: string };
  /** A plan step acknowledged by the participants it names. `method` is "prompt", "app" or "ack-all" (rehearsal). */
  'step.acknowledged': { step: string; text: string; by: string[]; method: string };
  'hsm.selected': {
    /** initArgs: the C_Initialize reserved string, when the module needed one (not secret: paths and flags). */
    module: { path: string; sha256: string; manufacturer: string; library: string; libraryVersion?: string; cryptokiVersion?: string; initArgs?: string };
    /** slotId and selectedBy: how the token was told apart (label, then serial, then slot); later commands find it the same way. */
    token: { label: string; manufacturer: string; model: string; serialNumber: string; firmware: string; flags?: string[]; slotId?: string; selectedBy?: 'label' | 'label+serial' | 'label+serial+slot' };
    /** Mechanisms the ceremony needs, each with whether the token offers it. */
    mechanisms: { name: string; type: string; needed: string; present: boolean }[];
    /** Which path each capability took on this token (capabilities.ts): native, fallback or refused. */
    capabilities?: { capability: string; path: 'native' | 'fallback' | 'refused'; mechanism: string; detail: string }[];
  };
  /** Preflight results; recorded once the transcript exists. */
  'preflight.passed': { checks: { name: string; ok: boolean; detail: string }[] };
  'hsm.logged-in': { tokenLabel: string; tokenSerial: string };
  /** Known-answer test of RFC 5649 wrapping in the token against a software result. */
  'selftest.kwp': { mechanism: string; mechanismType: string; zeroPadsInput: boolean; ok: boolean };
  /** Written before a key is created, so that no token object exists that the transcript does not name. */
  'key.generating': { role: 'signer' | 'root'; label: string; id: string; algorithm: string };
  /** The per-ceremony transcript signer (EC P-384, in the token). */
  'signer.generated': { role: 'ceremony'; label: string; id: string; keyid: string; spki: string; attributes: Record<string, unknown> };
  'key.generated': {
    label: string;
    id: string;
    algorithm: string;
    attributes: Record<string, unknown>;
    publicKey?: { spki: string; sha256: string };
    kcv?: string;
  };
  /** Checks after generation: attributes as intended, and for signing keys a signature verified with the public key. */
  'key.verified': { checks: { name: string; ok: boolean; detail: string }[] };
  'backup.split': {
    scheme: 'slip39';
    identifier: number;
    extendable: boolean;
    iterationExponent: number;
    groupThreshold: number;
    groups: { threshold: number; count: number }[];
    kekKcv: string;
    passphrase: boolean;
    shares: { group: number; member: number; custodian: string; checkValue: string }[];
  };
  'backup.wrapped': { mechanism: string; mechanismType: string; zeroPadsInput: boolean; wrapped: string; sha256: string; path: string };
  /**
   * A custodian's sheet went out. `kind` says where: "printer" (a CUPS queue; `output` is its name)
   * or "file" (rehearsals only; `output` is the file). Printed sheets record `spoolClean`: no file of
   * the job was left in the CUPS spool once it had printed.
   */
  'share.printed': { group: number; member: number; custodian: string; output: string; rehearsal: boolean; kind?: 'printer' | 'file'; jobId?: number; spoolClean?: boolean };
  /** The CUPS queue's checks before the first sheet (SPEC §5): queue, device URI, each check. */
  'printer.checked': { queue: string; deviceUri: string; checks: { name: string; ok: boolean; detail: string }[] };
  /** `method`: "typed" (TTY or app), "scanned" (QR) or "file" (rehearsal --confirm-from). */
  'share.confirmed': { group: number; member: number; custodian: string; checkValue: string; method: string };
  /** The KEK buffer was overwritten with zeros after printing. */
  'backup.kek-wiped': Record<string, never>;
  'backup.recovery-tested': { shares: { group: number; member: number }[]; ok: boolean; kekKcvOk: boolean; sameKey: boolean; detail: string };
  'export.created': {
    target: string;
    kind: string;
    algorithm: string;
    wrappingKeySha256: string;
    /** How the wrap was made: "native CKM_RSA_AES_KEY_WRAP", "two-step OAEP+KWP", "OAEP". */
    method: string;
    files: { path: string; sha256: string }[];
    /** OAEP hash (digest and MGF1): "SHA-1" or "SHA-256". */
    oaepHash?: string;
    /** The RFC 5649 mechanism of the two-step form; zeroPadsInput as in selftest.kwp. */
    kwp?: { mechanism: string; mechanismType: string; zeroPadsInput: boolean };
  };
  'key.sealed': { label: string; id: string; extractable: boolean };
  'note.added': { text: string };
  'exception.recorded': { text: string; step?: string };
  /** `advice`: what to do next (e.g. plug the token back in, then `keyrite ceremony abort`). */
  'ceremony.aborted': { reason: string; step: string; error?: string; advice?: string };
  /** `ceremony abort` set aside a torn last line (an event whose write never finished) before resuming. */
  'transcript.tail-removed': { line: number; bytes: number; sha256: string };
  /** `ceremony abort` removed the objects of one announced key (key.generating) from the token; 0 when none was left. */
  'key.destroyed': { role: string; label: string; id: string; objects: number };
  /** End of `ceremony abort`; `afterSigning` lists keys removed only once the abort statement is signed (the signer). */
  'ceremony.cleanup-completed': {
    token: { label: string; serialNumber: string };
    destroyed: number;
    afterSigning: { role: string; label: string; id: string }[];
    signed: boolean;
  };
  'ceremony.completed': { chainHead: string; eventCount: number };

  // A destroy ceremony (docs/lifecycle.md): each version's key destroyed on the token and shown gone,
  // custodians' sheets acknowledged destroyed, and the certificate of destruction.
  /** A re-share: a threshold of the current shares combined to the old backup key with the recorded KCV. */
  'reshare.old-shares-verified': { version: number; ceremonyId: string; identifier: number; kekKcv: string; shares: { group: number; member: number; custodian: string; checkValue: string }[] };
  /** A re-share: the backup it replaces. The old shares still open every copy of that wrapped blob. */
  'backup.retired': { ceremonyId: string; path: string; sha256: string; identifier: number; custodians: string[]; warning: string };
  /** A custodian acknowledged destroying their sheet(s) of the destroyed versions. `method`: "prompt", "app" or "ack-all". */
  'sheet.destroyed': { custodian: string; shares: { version: number; ceremonyId: string; group: number; member: number; checkValue: string }[]; method: string };
  /** Every object with the version's label and CKA_ID was destroyed; `remaining` is what a find returned afterwards (0). */
  'version.destroyed': { version: number; label: string; id: string; ceremonyId: string; objects: number; remaining: number; token: { label: string; serialNumber: string } };
  /** The certificate of destruction: what is gone from this token, and where a copy may still exist. */
  'destruction.certified': {
    versions: { version: number; label: string; id: string; algorithm: string; fingerprint: string; objectsDestroyed: number; gone: boolean }[];
    token: { label: string; serialNumber: string };
    copiesRemaining: { where: string; detail: string }[];
  };

  // A recovery's own transcript (BUNDLE/recoveries/<time>/transcript.jsonl). Its first event is
  // recovery.started naming the original ceremony; verify checks that key.recovered is the root.
  'recovery.started': {
    /** The id of the ceremony whose key is recovered. */
    ceremonyId: string;
    /** predicate.chainHead of the ceremony's envelope. */
    ceremonyChainHead: string;
    /** The ceremony's statement digest: SHA-256 of its envelope's decoded payload (absent only for an unsigned bundle recovered with --force-unverified). */
    ceremonyStatementSha256?: string;
    app: { name: string; version: string; code?: { sha256: string; what: string } };
    host: { platform: string; arch: string; networkInterfaces: NetworkInterfaceRecord[] };
    /** "cli" or "desktop". */
    frontEnd?: string;
    /** The ceremony bundle's own verification before recovery; `forced` when --force-unverified overrode a failure. */
    bundleVerification?: { valid: boolean; verdict: string; forced: boolean; firstFailure?: string };
    /** Where the key is restored: its label (the original or --label) and the token. */
    target?: { label: string; id: string; tokenLabel: string; tokenSerial: string };
  };
  /** A share accepted for the recovery (words never recorded). `position`: its place in the input. */
  'recovery.share-accepted': { group: number; member: number; checkValue: string; custodian?: string; position?: number };
  /** The shares combined to the backup key whose KCV backup.split recorded (checked before the token was touched). */
  'recovery.kek-verified': { kcv: string; ok: boolean; shares: { group: number; member: number }[] };
  /** The backup key's session object was destroyed and its buffer zeroed. */
  'recovery.kek-destroyed': Record<string, never>;
  /** The root key unwrapped into the new token: publicKey.sha256 (asymmetric) or kcv (AES) must be the ceremony's root. */
  'key.recovered': {
    label: string;
    id: string;
    algorithm: string;
    token: { label: string; serialNumber: string };
    attributes: Record<string, unknown>;
    publicKey?: { spki: string; sha256: string };
    kcv?: string;
  };
  /** `removed`: objects this recovery had created on the token and took away again, so it is as before. */
  'recovery.aborted': { reason: string; step: string; error?: string; removed?: string[] };
  'recovery.completed': { chainHead: string; eventCount: number };
}

export type EventType = keyof EventData;
