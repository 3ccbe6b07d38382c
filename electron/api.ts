/**
 * The contract between the main process and the renderer: `window.keyrite`.
 *
 * One named method per operation (no generic invoke). Every method resolves to a tagged union,
 * never throws across IPC. Nothing here ever carries a PIN back to the renderer, share words,
 * a KEK or key material: share sheets go from main straight to the printer.
 *
 * Types only, except API_METHODS: the method list that preload, ipc and the test bridge share.
 */
import type { NetworkInterfaceRecord } from './core/transcript/events.ts';

export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export interface ApiError {
  /** e.g. "usage", "operation", "hsm/pin-incorrect", "state", "forbidden", "internal" */
  code: string;
  /** One line that says what and where; never a secret. */
  message: string;
  /** Plan problems, each with its JSON path. */
  problems?: { path: string; message: string }[];
}

export interface NetworkStatus {
  interfaces: NetworkInterfaceRecord[];
  /** True when any interface is up with a non-loopback address. */
  online: boolean;
}

export interface CustodianSlot {
  /** 0-based position in the plan's custodian order; the handle used by printSheet/confirmShare. */
  index: number;
  group: number;
  member: number;
  custodian: string;
  name: string;
}

export interface PlanSummary {
  file: string;
  id: string;
  title: string;
  bundleDir: string;
  rehearsal: boolean;
  participants: { id: string; name: string; role: string }[];
  /** `slot` and `initArgs` (C_Initialize parameters) as the plan gives them; the engine opens the module with them. */
  hsm: { module: string; tokenLabel?: string; tokenSerial?: string; slot?: number; initArgs?: string };
  key: { label: string; algorithm: string; sealAfterExport: boolean };
  backup: { groupThreshold: number; groups: { threshold: number; count: number }[]; passphrase: boolean };
  custodians: CustodianSlot[];
  steps: { id: string; text: string; ackBy: string[] }[];
  exports: { name: string; kind: string }[];
}

export interface PlanCheck {
  valid: boolean;
  problems: { path: string; message: string }[];
  /**
   * File references (wrapping keys, import tokens) not checked because the plan's folder is not one
   * the user opened or saved a plan in during this session ("save the plan first to check its files").
   * They do not make the plan invalid; savePlan and openPlan check them.
   */
  unchecked?: { path: string; message: string }[];
}

export interface CheckItem {
  name: string;
  ok: boolean;
  /** verify's checks: "skip" is a check that had nothing to check (ok, but not a pass). */
  status?: 'pass' | 'fail' | 'skip';
  detail: string;
}

export interface PreflightSummary {
  ok: boolean;
  checks: CheckItem[];
  network: NetworkStatus;
}

export interface CeremonyStatus {
  state: string;
  checkedIn: string[];
  acknowledged: string[];
}

export interface GenerationSummary {
  algorithm: string;
  label: string;
  id: string;
  /** SHA-256 of the public key (asymmetric) or the KCV (AES): what people compare on paper. */
  fingerprint: string;
  publicKeySha256?: string;
  kcv?: string;
  signerKeyid: string;
}

export interface ShareSlot extends CustodianSlot {
  /** Public: first 8 bytes of SHA-256 over the mnemonic (docs/transcript.md). */
  checkValue: string;
}

export interface PrinterSummary {
  name: string;
  displayName: string;
  description: string;
  isDefault: boolean;
}

/** A real printer, or (rehearsals only) a PDF file clearly marked as a rehearsal output. */
export type PrintTarget = { printer: string } | { pdf: true };

export interface ExportSummary {
  target: string;
  kind: string;
  algorithm: string;
  files: { path: string; sha256: string }[];
}

export interface FinishSummary {
  bundleDir: string;
  chainHead: string;
  signers: { keyid: string; role: string }[];
  root: GenerationSummary | undefined;
  /** SHA-256 of the signed statement, read aloud (as PGP words) and written on the attestation. */
  statementSha256: string;
}

/** A witness's or the administrator's token, for co-signing the finished bundle. */
export interface CosignRequest {
  participant: string;
  /** A handle from chooseModule or listModules. */
  module: string;
  tokenLabel: string;
  /** The chosen token's serial number: labels can repeat. */
  tokenSerial?: string;
  /** The signing key's label, when the token holds more than one. */
  keyLabel?: string;
  /** C_Initialize parameters for a module that needs them (e.g. NSS softokn's configdir); `--module-args` at the CLI. */
  moduleArgs?: string;
}

export interface CosignSummary {
  participant: string;
  role: string;
  keyid: string;
  /** Signatures in the envelope now, and how many of them are co-signatures. */
  signatures: number;
  cosignatures: number;
}

export interface TimelineEntry {
  seq: number;
  time: string;
  type: string;
  actor: string;
  /** A readable sentence made from public fields only. */
  summary: string;
}

export interface VerifySummary {
  bundleDir: string;
  valid: boolean;
  /** "VALID", "VALID (REHEARSAL)", "INVALID" or "INCOMPLETE: stopped after …" */
  verdict: string;
  checks: CheckItem[];
  /** What an auditor must weigh though no check failed (rehearsal, network up, no co-signatures, ...). */
  warnings: string[];
  timeline: TimelineEntry[];
}

export interface TokenSummary {
  label: string;
  serialNumber: string;
  manufacturer: string;
  model: string;
  initialized: boolean;
}

export interface RecoveryStartOptions {
  /** Handles: the bundle folder (chooseFolder) and the module (chooseModule / listModules). */
  bundle: string;
  module: string;
  tokenLabel: string;
  /** The chosen token's serial number: labels can repeat, serials do not. */
  tokenSerial?: string;
  /** Restore under this label instead of the ceremony's (`keyrite recover --label`). */
  label?: string;
  /** C_Initialize parameters for a module that needs them (`--module-args` at the CLI). */
  moduleArgs?: string;
}

export interface RecoveryPlanInfo {
  ceremonyId: string;
  /** The label the restored key gets on the token. */
  targetLabel: string;
  root: { algorithm: string; label: string; fingerprint: string };
  groupThreshold: number;
  groups: { group: number; threshold: number; count: number }[];
  passphrase: boolean;
}

export interface RecoveryProgress {
  /** Which share was just accepted (1-based group and member). */
  group: number;
  member: number;
  /** False when valid but not needed (its group already has enough). */
  used: boolean;
  complete: boolean;
  /** e.g. "group 1 needs 1 more share"; "" when complete. */
  needs: string;
  groups: { group: number; have: number; threshold: number }[];
}

export interface RecoveryResult {
  label: string;
  id: string;
  fingerprint: string;
  sameKey: boolean;
  transcriptDir: string | undefined;
}

/** A re-share or destroy plan as opened (docs/lifecycle.md); public facts only. */
export interface LifecycleSummary {
  kind: 'reshare' | 'destroy';
  id: string;
  title: string;
  bundleDir: string;
  rehearsal: boolean;
  /** The ceremony this one continues, pinned by its statement digest (checked when the plan was opened). */
  previous: { ceremonyId: string; statementSha256: string };
  keyVersion: number;
  participants: { id: string; name: string; role: string }[];
  hsm: { module: string; tokenLabel?: string; tokenSerial?: string; slot?: number; initArgs?: string };
  steps: { id: string; text: string; ackBy: string[] }[];
  /** Re-share: the current set, whose threshold of shares is entered first, and the new layout. */
  reshare?: {
    version: number;
    fromCeremony: string;
    identifier: number;
    groupThreshold: number;
    groups: { threshold: number; count: number }[];
    newLayout: { groupThreshold: number; groups: { threshold: number; count: number }[] };
    custodians: CustodianSlot[];
  };
  /** Destroy: the versions and where they were made. */
  destroy?: { versions: { version: number; label: string; algorithm: string; fingerprint: string; ceremonyId: string }[] };
  /** Who acknowledges destroying which old sheet (after the new shares are tested, for a re-share). */
  sheets: { custodian: string; name: string; shares: string[] }[];
}

/** An old share accepted for a re-share (it belongs to the current set; nothing is combined yet). */
export interface OldShareAccepted {
  custodian: string;
  group: number;
  member: number;
  entered: number;
}

export interface DestructionSummary {
  versions: { version: number; label: string; objectsDestroyed: number; gone: boolean }[];
  copiesRemaining: { where: string; detail: string }[];
}

/** Events pushed from main to the renderer. Summaries only, made from public fields. */
export type ApiEvent =
  | { type: 'state'; state: string }
  | { type: 'progress'; step: string; message: string; done?: boolean }
  | { type: 'transcript'; entry: TimelineEntry };

/**
 * A file, folder or module the user chose in one of main's dialogs (or from the discovered module
 * list). The renderer names no path: it holds this opaque handle and shows `name` (the last part
 * of the path); main alone knows the path.
 */
export interface Chosen {
  handle: string;
  name: string;
}

export interface KeyriteApi {
  // Start / files (main's dialogs; null when cancelled)
  choosePlanFile(): Promise<Result<Chosen | null>>;
  chooseFolder(purpose: 'bundle' | 'output'): Promise<Result<Chosen | null>>;
  /** A PKCS#11 library chosen in main's file dialog. */
  chooseModule(): Promise<Result<Chosen | null>>;
  /** The PKCS#11 modules found in the usual places on this machine. */
  listModules(): Promise<Result<Chosen[]>>;
  airgapStatus(): Promise<Result<NetworkStatus>>;
  wordList(): Promise<Result<string[]>>;

  // Plan
  /**
   * `plan` (a handle of a plan opened or saved in this session, or '') resolves the plan's file
   * references in that plan's folder; without it they come back in `unchecked`.
   */
  validatePlanText(text: string, plan: string): Promise<Result<PlanCheck>>;
  /**
   * Writes a new plan file, never over an existing one, where the user picks in main's save dialog
   * (`fileName` is only its suggested name). Main accepts only a `.json` file in an existing folder.
   * Null when the dialog was cancelled.
   */
  savePlan(fileName: string, text: string): Promise<Result<Chosen | null>>;
  /** `plan` and `out` are handles (`out` '' for next to the plan). */
  openPlan(plan: string, out: string, rehearsal: boolean): Promise<Result<PlanSummary>>;

  // Ceremony
  preflight(): Promise<Result<PreflightSummary>>;
  /** `networkAcknowledged`: the checks screen's "we know this machine is connected" (recorded as an exception). */
  begin(networkAcknowledged?: boolean): Promise<Result<CeremonyStatus>>;
  checkIn(participantId: string): Promise<Result<CeremonyStatus>>;
  acknowledge(stepId: string, by: string[]): Promise<Result<CeremonyStatus>>;
  /** The PIN goes one way: it is never returned, stored or logged. */
  login(pin: string): Promise<Result<{ checks: CheckItem[] }>>;
  generate(): Promise<Result<GenerationSummary>>;
  backup(passphrase?: string): Promise<Result<ShareSlot[]>>;
  listPrinters(): Promise<Result<PrinterSummary[]>>;
  /**
   * The printer checks (docs/printing.md) for a queue from listPrinters, recorded as printer.checked.
   * A production ceremony needs a queue that passed before its key is generated.
   */
  checkPrinter(queue: string): Promise<Result<{ ok: boolean; checks: CheckItem[] }>>;
  /**
   * Prints custodian `index`'s sheet in main; returns only where it went. The printer must be one
   * listPrinters() returns. A share already confirmed is printed again only with `reprintReason`,
   * which is recorded first as an exception in the transcript.
   */
  printSheet(index: number, target: PrintTarget, reprintReason?: string): Promise<Result<{ output: string }>>;
  confirmShare(index: number, words: string): Promise<Result<{ checkValue: string }>>;
  testRecovery(passphrase?: string): Promise<Result<{ ok: boolean; detail: string }>>;
  runExports(): Promise<Result<ExportSummary[]>>;
  finish(): Promise<Result<FinishSummary>>;
  /** A witness (or the administrator) co-signs the signed bundle with their own token. The PIN goes one way. */
  cosign(request: CosignRequest, pin: string): Promise<Result<CosignSummary>>;
  /** Prints the one-page attestation of the signed bundle (PDF next to the bundle in rehearsals only). */
  printAttestation(target: PrintTarget): Promise<Result<{ output: string }>>;
  /** `advice`: what the people in the room do next, as recorded in ceremony.aborted (may name a command). */
  abort(reason: string): Promise<Result<{ state: string; advice: string }>>;

  // Re-share and destroy (docs/lifecycle.md). Rotate is a generate plan with a link: openPlan.
  /** A re-share or destroy plan; its link to the previous bundle is checked before anything else. */
  lifecycleOpen(plan: string, out: string, rehearsal: boolean): Promise<Result<LifecycleSummary>>;
  /** Re-share: one current custodian's share, checked against the current set (words go one way). */
  lifecycleOldShare(words: string): Promise<Result<OldShareAccepted>>;
  /** Re-share: the entered shares must combine to the old backup key (its recorded KCV), before the token is touched. */
  lifecycleCheckOldShares(): Promise<Result<{ ok: true; entered: number }>>;
  /** Opens the token and starts the transcript. The PIN goes one way. */
  lifecycleLogin(pin: string, networkAcknowledged?: boolean): Promise<Result<{ tokenLabel: string; tokenSerial: string }>>;
  lifecycleCheckIn(participantId: string): Promise<Result<{ checkedIn: string[] }>>;
  lifecycleAcknowledge(stepId: string): Promise<Result<{ acknowledged: string[] }>>;
  /** Re-share: the root re-wrapped inside the token under a new backup key split for the new layout. */
  lifecycleRewrap(): Promise<Result<ShareSlot[]>>;
  /** Re-share (production): a queue from listPrinters passes the printer checks before the new key is made. */
  lifecycleCheckPrinter(queue: string): Promise<Result<{ ok: boolean; checks: CheckItem[] }>>;
  /** Re-share (production): new share `index`'s sheet printed on the checked queue; returns only where it went. */
  lifecyclePrintSheet(index: number, queue: string): Promise<Result<{ output: string }>>;
  /** Re-share (rehearsal): the new sheets written as files next to the bundle. */
  lifecycleWriteSheets(): Promise<Result<{ folder: string; files: string[] }>>;
  lifecycleConfirmShare(index: number, words: string): Promise<Result<{ checkValue: string }>>;
  lifecycleTestRecovery(): Promise<Result<{ ok: boolean }>>;
  /** A custodian acknowledges destroying their old sheet(s). */
  lifecycleSheetDestroyed(custodian: string): Promise<Result<{ destroyed: string[] }>>;
  /** Destroy: every version's objects destroyed and checked gone, then the certificate recorded. */
  lifecycleDestroy(): Promise<Result<DestructionSummary>>;
  lifecycleFinish(): Promise<Result<{ bundleDir: string; statementSha256: string }>>;
  lifecycleAbort(reason: string): Promise<Result<{ stopped: boolean }>>;

  // Verify
  /** `bundle`: a handle from chooseFolder('bundle'). */
  verifyBundle(bundle: string): Promise<Result<VerifySummary>>;

  // Recover
  /** `module`: a handle from chooseModule or listModules. */
  /** `moduleArgs`: C_Initialize parameters for a module that needs them ('' or absent for none). */
  listTokens(module: string, moduleArgs?: string): Promise<Result<TokenSummary[]>>;
  recoverStart(options: RecoveryStartOptions): Promise<Result<RecoveryPlanInfo>>;
  recoverAddShare(words: string): Promise<Result<RecoveryProgress>>;
  recoverRestore(pin: string, passphrase?: string): Promise<Result<RecoveryResult>>;
  recoverCancel(): Promise<Result<null>>;

  /** Subscribes to events from main; returns the unsubscribe function. Not an IPC method. */
  onEvent(listener: (event: ApiEvent) => void): () => void;
}

export type ApiMethod = Exclude<keyof KeyriteApi, 'onEvent'>;

/** Every IPC method, in one list shared by preload, ipc.ts and the test bridge. */
export const API_METHODS = [
  'choosePlanFile',
  'chooseFolder',
  'chooseModule',
  'listModules',
  'airgapStatus',
  'wordList',
  'validatePlanText',
  'savePlan',
  'openPlan',
  'preflight',
  'begin',
  'checkIn',
  'acknowledge',
  'login',
  'generate',
  'backup',
  'listPrinters',
  'checkPrinter',
  'printSheet',
  'confirmShare',
  'testRecovery',
  'runExports',
  'finish',
  'cosign',
  'printAttestation',
  'abort',
  'lifecycleOpen',
  'lifecycleOldShare',
  'lifecycleCheckOldShares',
  'lifecycleLogin',
  'lifecycleCheckIn',
  'lifecycleAcknowledge',
  'lifecycleRewrap',
  'lifecycleCheckPrinter',
  'lifecyclePrintSheet',
  'lifecycleWriteSheets',
  'lifecycleConfirmShare',
  'lifecycleTestRecovery',
  'lifecycleSheetDestroyed',
  'lifecycleDestroy',
  'lifecycleFinish',
  'lifecycleAbort',
  'verifyBundle',
  'listTokens',
  'recoverStart',
  'recoverAddShare',
  'recoverRestore',
  'recoverCancel',
] as const satisfies readonly ApiMethod[];

// Compile-time check that API_METHODS lists every method of KeyriteApi.
type Missing = Exclude<ApiMethod, (typeof API_METHODS)[number]>;
export const API_METHODS_COMPLETE: [Missing] extends [never] ? true : Missing = true;

export const IPC_PREFIX = 'keyrite:';
export const EVENT_CHANNEL = 'keyrite:event';

export type ApiArgs<M extends ApiMethod> = Parameters<KeyriteApi[M]>;
export type ApiValue<M extends ApiMethod> = Awaited<ReturnType<KeyriteApi[M]>> extends Result<infer T> ? T : never;
