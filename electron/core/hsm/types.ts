/**
 * The contract of Keyrite's PKCS#11 layer. Everything above `core/hsm/` (ceremony engine, exports,
 * recovery, CLI, desktop app) talks to an HSM only through these types; graphene-pk11 stays inside
 * `core/hsm/`. All calls are synchronous (graphene is). Every failure is an `HsmError` with a plain
 * one-line message; a PIN is never stored, logged or put into a message.
 */

export type RootAlgorithm = 'aes-256' | 'ec-p256' | 'ec-p384' | 'rsa-3072' | 'rsa-4096' | 'ed25519';
export const ROOT_ALGORITHMS: readonly RootAlgorithm[] = ['aes-256', 'ec-p256', 'ec-p384', 'rsa-3072', 'rsa-4096', 'ed25519'];

export type HsmErrorCode =
  | 'module-load' // the file is missing or is not a PKCS#11 library
  | 'token-not-found'
  | 'token-ambiguous' // several tokens match the label; give a serial
  | 'token-not-present'
  | 'device-removed'
  | 'session-closed' // CKR_SESSION_HANDLE_INVALID / CKR_SESSION_CLOSED
  | 'pin-incorrect'
  | 'pin-locked'
  | 'pin-invalid' // CKR_PIN_LEN_RANGE / CKR_PIN_INVALID
  | 'mechanism-missing'
  | 'key-not-wrappable'
  | 'label-exists'
  | 'attribute-mismatch'
  | 'refused'; // any other CKR_*: message names the operation and the CKR code

export interface ModuleInfo {
  path: string;
  /** The C_Initialize reserved string, when one was given. */
  initArgs?: string;
  /** Lowercase hex SHA-256 of the module file, as loaded. */
  sha256: string;
  manufacturer: string;
  library: string; // libraryDescription
  libraryVersion: string; // "2.6"
  cryptokiVersion: string; // "2.40"
}

export interface TokenInfo {
  slotId: string; // decimal, for display only: never use it to find a token again
  slotDescription: string;
  label: string;
  manufacturer: string;
  model: string;
  serialNumber: string;
  firmware: string; // "2.6"
  hardware: string;
  /** Names of the CKF_* token flags that are set, e.g. ["RNG", "LOGIN_REQUIRED", "USER_PIN_INITIALIZED", "TOKEN_INITIALIZED"]. */
  flags: string[];
}

/** A token is named by label, narrowed by serial, then by slot (docs/plan.md); never by serial alone. */
export interface TokenSelector {
  label?: string;
  serial?: string;
  /** Decimal slot id: only where label and serial both repeat (NSS, tpm2-pkcs11). */
  slotId?: string;
}

/** What it took to tell the chosen token from the others with the same label (hsm.selected). */
export type TokenSelectedBy = 'label' | 'label+serial' | 'label+serial+slot';

/** Options of C_Initialize. */
export interface ModuleOptions {
  /** The reserved string (pReserved) some modules need, e.g. NSS softoken's "configdir='sql:DIR' ...". */
  initArgs?: string;
}

export interface MechanismInfo {
  /** CKM_* number. */
  type: number;
  /** "CKM_AES_KEY_WRAP_PAD", or "0x00001055" when the name is unknown to graphene. */
  name: string;
  minKeySize: number;
  maxKeySize: number;
  /** Names of the CKF_* mechanism flags that are set: ENCRYPT, DECRYPT, DIGEST, SIGN, VERIFY, GENERATE, GENERATE_KEY_PAIR, WRAP, UNWRAP, DERIVE, ... */
  flags: string[];
}

/** An object on the token, as far as can be said without reading a secret. */
export interface ObjectInfo {
  class: 'secret' | 'private' | 'public' | 'data' | 'certificate' | 'other';
  label: string;
  idHex: string;
  keyType?: string; // "AES", "EC", "RSA", "EC_EDWARDS"
  token: boolean;
}

/** Opaque reference to a key object in an open session. */
export interface KeyRef {
  readonly kind: 'secret' | 'private' | 'public';
  readonly label: string;
  readonly idHex: string;
  /** Internal handle; only `core/hsm/` looks inside. */
  readonly handle: unknown;
}

export interface RootKey {
  algorithm: RootAlgorithm;
  /** The secret key (AES) or the private key. */
  key: KeyRef;
  /** The public key object, for asymmetric keys. */
  publicKey?: KeyRef;
}

/** Attributes read back from the token after generation, as recorded in the transcript. */
/**
 * Attributes as read back from the token. A boolean the token would not give (an error, or absent on
 * this object) is left out (undefined): it is never taken as either value, so every check that
 * needs it fails and names it (core/ceremony/key-checks.ts).
 */
export interface KeyAttributes {
  class: string; // "SECRET_KEY" | "PRIVATE_KEY"
  keyType: string; // "AES" | "EC" | "RSA" | "EC_EDWARDS"
  label: string;
  id: string; // hex
  token?: boolean;
  private?: boolean;
  sensitive?: boolean;
  extractable?: boolean;
  alwaysSensitive?: boolean;
  neverExtractable?: boolean;
  modifiable?: boolean;
  local?: boolean;
  sign?: boolean;
  decrypt?: boolean;
  encrypt?: boolean;
  verify?: boolean;
  wrap?: boolean;
  unwrap?: boolean;
  derive?: boolean;
  /** AES: key length in bytes. */
  valueLen?: number;
  /** RSA: modulus bits. */
  modulusBits?: number;
  /** EC / EdDSA: hex DER of CKA_EC_PARAMS. */
  ecParams?: string;
}

/** What C_SetAttributeValue may change: sealing, and usage flags a token ignored in an unwrap template. */
export type KeyAttributeChanges = Partial<Record<'extractable' | UsageFlag, boolean>>;

/** The usage flags compared after a recovery. */
export type UsageFlag = 'sign' | 'verify' | 'encrypt' | 'decrypt' | 'wrap' | 'unwrap' | 'derive';
export const USAGE_FLAGS: readonly UsageFlag[] = ['sign', 'verify', 'encrypt', 'decrypt', 'wrap', 'unwrap', 'derive'];

export type SignatureScheme =
  | 'ecdsa-sha256' // P-256: SHA-256 then CKM_ECDSA, DER output
  | 'ecdsa-sha384' // P-384: SHA-384 in software then CKM_ECDSA (raw r||s), DER output
  | 'rsa-pkcs1-sha256' // CKM_SHA256_RSA_PKCS
  | 'ed25519'; // CKM_EDDSA, 64-byte signature

export type OaepHash = 'sha1' | 'sha256';

/** How a wrap with RFC 5649 was done, recorded in the transcript. */
export interface KwpInfo {
  /** "CKM_AES_KEY_WRAP_KWP" (0x210B) or "CKM_AES_KEY_WRAP_PAD" (0x210A). */
  mechanism: string;
  mechanismType: number;
  /** True when the token zero-pads its input to a multiple of 8 before RFC 5649 (SoftHSM 2.6 does). */
  zeroPadsInput: boolean;
}

export interface HsmModule {
  readonly info: ModuleInfo;
  tokens(): TokenInfo[];
  /** Exactly one token matching the label, serial and slot, else HsmError token-not-found / token-ambiguous. */
  findToken(selector: TokenSelector): TokenInfo;
  /** findToken, and what it took to tell the token apart (recorded in hsm.selected). */
  selectToken?(selector: TokenSelector): { token: TokenInfo; selectedBy: TokenSelectedBy };
  mechanisms(token: TokenSelector): MechanismInfo[];
  /** Opens an R/W session on the token and logs in as user. */
  login(token: TokenSelector, pin: string): HsmSession;
  close(): void;
}

export interface HsmSession {
  readonly token: TokenInfo;
  random(length: number): Buffer;
  /** Every object visible to the logged-in user. */
  listObjects(): ObjectInfo[];
  findObjects(query: { label?: string; idHex?: string }): ObjectInfo[];
  /** Finds a key object again by label/id (for recovery, abort and sealed-key tests). */
  findKey(query: { label?: string; idHex?: string; kind: KeyRef['kind'] }): KeyRef | undefined;
  /** Every private key that may sign (CKA_SIGN true), optionally only those with this label (co-signing). */
  findSigningKeys(query?: { label?: string }): KeyRef[];

  /**
   * Generates the root key as token objects with explicit templates: private, sensitive,
   * extractable (only so it can be wrapped), the given label and CKA_ID. Public key objects are
   * token objects too, with the same label and id.
   */
  generateRootKey(algorithm: RootAlgorithm, label: string, id: Buffer): RootKey;
  /** The per-ceremony transcript signer (EC P-384, or the fallback capabilities.ts chose): token objects, private key non-extractable, sign only. */
  generateSignerKey(label: string, id: Buffer, algorithm?: 'ec-p384' | 'ec-p256' | 'rsa-3072'): RootKey;
  readAttributes(key: KeyRef): KeyAttributes;
  /** SPKI DER of a public key object (or of the public half of a pair). */
  publicKeySpki(key: KeyRef): Buffer;
  /** KCV per docs/transcript.md: first 3 bytes, lowercase hex, of AES-CMAC(key, 16 zero bytes), computed in the token. */
  aesKcv(key: KeyRef): string;
  sign(key: KeyRef, scheme: SignatureScheme, data: Buffer): Buffer;

  /** Imports raw AES key bytes as a session object (not on the token), sensitive, non-extractable. */
  importAesKey(value: Buffer, label: string, usage: { wrap?: boolean; unwrap?: boolean; encrypt?: boolean; decrypt?: boolean; sign?: boolean }): KeyRef;
  /** Generates an AES-256 session key inside the token (the ephemeral key of RSA-AES wrapping). */
  generateAesSessionKey(label: string, usage: { wrap?: boolean; extractable?: boolean }): KeyRef;
  /** Imports an RSA public key (SPKI DER) as a session object usable for wrapping. */
  importRsaPublicKey(spki: Buffer, label: string): KeyRef;

  /** Which RFC 5649 mechanism this token offers (KWP preferred), or undefined when none. */
  kwpMechanism(): KwpInfo | undefined;
  /** RFC 5649 wrap inside the token. */
  wrapKwp(kek: KeyRef, key: KeyRef): { wrapped: Buffer; info: KwpInfo };
  /**
   * RFC 5649 unwrap inside the token into a new key object with the given template.
   * `asToken` false makes a session object (test recovery); true a token object (recovery).
   */
  unwrapKwp(kek: KeyRef, wrapped: Buffer, target: UnwrapTarget): RootKey;
  /** RSA-OAEP wrap of a secret key inside the token, hash used for both digest and MGF1, empty label. */
  wrapOaep(wrappingKey: KeyRef, key: KeyRef, hash: OaepHash): Buffer;
  /** Native CKM_RSA_AES_KEY_WRAP when present; undefined when the token lacks it. */
  hasRsaAesKeyWrap(hash: OaepHash): boolean;
  wrapRsaAesNative(wrappingKey: KeyRef, key: KeyRef, hash: OaepHash): Buffer;

  /** C_SetAttributeValue, e.g. { extractable: false } to seal the root after export, or usage flags after a recovery. */
  setAttributes(key: KeyRef, attrs: KeyAttributeChanges): void;
  destroy(key: KeyRef): void;
  /** Destroys every object with this label and id (abort, cleanup); returns how many. */
  destroyObjects(query: { label?: string; idHex?: string }): number;
  logout(): void;
  close(): void;
}

export interface UnwrapTarget {
  algorithm: RootAlgorithm;
  label: string;
  id: Buffer;
  asToken: boolean;
  /** For asymmetric keys, the SPKI of the public half: the layer creates the public key object from it. */
  publicSpki?: Buffer;
}
