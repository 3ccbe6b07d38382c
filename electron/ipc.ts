/**
 * The main process's side of `window.keyrite`.
 *
 * createHandlers(deps) returns one handler per API method. It is plain Node (no `electron` import),
 * so the e2e test bridge calls exactly the same code that Electron's ipcMain does. registerIpc()
 * connects the handlers to ipcMain: every call's sender is checked, every argument is validated with
 * zod, and every failure comes back as `{ok: false, error}`, never as a thrown error.
 *
 * Secrets go one way only: a PIN, a passphrase or typed share words come in as arguments and are
 * handed to core; no handler returns or emits them, nor share words, a KEK or key material.
 */
import { closeSync, constants as fsConstants, existsSync, lstatSync, openSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { type InterfaceSource, networkAcknowledgement, statusOf } from './airgap.ts';
import {
  API_METHODS,
  EVENT_CHANNEL,
  IPC_PREFIX,
  type ApiError,
  type ApiEvent,
  type ApiMethod,
  type CeremonyStatus,
  type CheckItem,
  type GenerationSummary,
  type KeyriteApi,
  type PlanSummary,
  type Result,
  type VerifySummary,
} from './api.ts';
import { Ceremony, type RootSummary } from './core/ceremony/engine.ts';
import { checkPlanObject, custodianOrder, PlanError, planSchema } from './core/ceremony/plan.ts';
import { KeyriteError, OperationError, UsageError } from './core/errors.ts';
import { HsmError, openModule } from './core/hsm/index.ts';
import { allWords } from './core/shares/index.ts';
import { readTranscript } from './core/transcript/read.ts';
import { verifyBundle } from './core/verify/index.ts';
import { rehearsalPdfName, type SheetPrinter } from './print.ts';
import { assertPrinter } from './core/printing/checks.ts';
import { startRecovery, type RecoverySession } from './recovery.ts';
import { cosigningHandlers } from './cosigning.ts';
import { lifecycleHandlers } from './lifecycle-ipc.ts';
import { Handles } from './handles.ts';
import { assertLooksLikePlan, readChosenFile } from './safe-read.ts';
import { discoverModules } from './core/hsm/discover.ts';
import { summarizeEvent } from './timeline.ts';

export interface HandlerDeps {
  printer: SheetPrinter;
  /** Pushes an event to the renderer. */
  emit(event: ApiEvent): void;
  /**
   * Main's own file dialogs (Electron's; a scripted stand-in in tests): the only source of the
   * files, folders and modules the app opens. Without them nothing can be chosen.
   */
  dialogs?: {
    chooseFile(title: string, kind: 'plan' | 'module'): Promise<string | null>;
    chooseFolder(title: string): Promise<string | null>;
    /** A native save dialog; `defaultPath` is only a suggestion the user can change. */
    chooseSaveFile(title: string, defaultPath: string): Promise<string | null>;
  };
  /** The auditor's bundle check (`keyrite verify`). */
  verify(dir: string): VerifyReport | Promise<VerifyReport>;
  /** PKCS#11 modules found on this machine (default: the places `keyrite hsm list` looks). */
  modules?: () => string[];
  /** The machine's network interfaces (default: the real ones); tests inject a fixed list. */
  networkInterfaces?: InterfaceSource;
}

type VerifyReport = { valid: boolean; verdict?: string; checks: CheckItem[]; warnings?: string[] };

type Handler<M extends ApiMethod> = (...args: Parameters<KeyriteApi[M]>) => ReturnType<KeyriteApi[M]>;
export type Handlers = { [M in ApiMethod]: Handler<M> };

// ---- argument schemas ---------------------------------------------------------------------------

const handle = z.string().regex(/^[0-9a-f]{32}$/, 'a handle from one of the app\'s choosers');
const optHandle = z.union([handle, z.literal('')]);
/** A bare file name (the save dialog's suggestion), never a path. */
const fileName = z.string().max(255).regex(/^[^/\\\u0000-\u001f]*$/, 'a file name without folders');
const id = z.string().min(1).max(64);
const secretText = z.string().min(1).max(1024);
/** C_Initialize parameters (the plan's hsm.initArgs; `--module-args`): one line of text. */
const moduleArgs = z.string().max(4096).regex(/^[^\u0000-\u001f]*$/, 'one line, no control characters');

/** One zod tuple per method: the exact arguments it accepts. */
export const ARG_SCHEMAS: { [M in ApiMethod]: z.ZodType<Parameters<KeyriteApi[M]>> } = {
  choosePlanFile: z.tuple([]),
  chooseFolder: z.tuple([z.enum(['bundle', 'output'])]),
  chooseModule: z.tuple([]),
  listModules: z.tuple([]),
  airgapStatus: z.tuple([]),
  wordList: z.tuple([]),
  validatePlanText: z.tuple([z.string().max(1_000_000), optHandle]),
  savePlan: z.tuple([fileName, z.string().max(1_000_000)]),
  openPlan: z.tuple([handle, optHandle, z.boolean()]),
  preflight: z.tuple([]),
  begin: z.tuple([z.boolean().optional()]),
  checkIn: z.tuple([id]),
  acknowledge: z.tuple([id, z.array(id).max(64)]),
  login: z.tuple([z.string().min(1).max(256)]),
  generate: z.tuple([]),
  backup: z.tuple([secretText.optional()]),
  listPrinters: z.tuple([]),
  checkPrinter: z.tuple([z.string().min(1).max(512)]),
  printSheet: z.tuple([
    z.number().int().min(0).max(255),
    z.union([z.strictObject({ printer: z.string().min(1).max(512) }), z.strictObject({ pdf: z.literal(true) })]),
    z.string().trim().min(1).max(2000).optional(),
  ]),
  confirmShare: z.tuple([z.number().int().min(0).max(255), z.string().min(1).max(2000)]),
  testRecovery: z.tuple([secretText.optional()]),
  runExports: z.tuple([]),
  finish: z.tuple([]),
  cosign: z.tuple([
    z.strictObject({
      participant: id,
      module: handle,
      tokenLabel: z.string().min(1).max(32),
      tokenSerial: z.string().min(1).max(32).optional(),
      keyLabel: z.string().min(1).max(256).optional(),
      moduleArgs: moduleArgs.optional(),
    }),
    z.string().min(1).max(256),
  ]),
  printAttestation: z.tuple([z.union([z.strictObject({ printer: z.string().min(1).max(512) }), z.strictObject({ pdf: z.literal(true) })])]),
  abort: z.tuple([z.string().trim().min(1).max(2000)]),
  lifecycleOpen: z.tuple([handle, optHandle, z.boolean()]),
  lifecycleOldShare: z.tuple([z.string().min(1).max(2000)]),
  lifecycleCheckOldShares: z.tuple([]),
  lifecycleLogin: z.tuple([z.string().min(1).max(256), z.boolean().optional()]),
  lifecycleCheckIn: z.tuple([id]),
  lifecycleAcknowledge: z.tuple([id]),
  lifecycleRewrap: z.tuple([]),
  lifecycleCheckPrinter: z.tuple([z.string().min(1).max(512)]),
  lifecyclePrintSheet: z.tuple([z.number().int().min(0).max(255), z.string().min(1).max(512)]),
  lifecycleWriteSheets: z.tuple([]),
  lifecycleConfirmShare: z.tuple([z.number().int().min(0).max(255), z.string().min(1).max(2000)]),
  lifecycleTestRecovery: z.tuple([]),
  lifecycleSheetDestroyed: z.tuple([id]),
  lifecycleDestroy: z.tuple([]),
  lifecycleFinish: z.tuple([]),
  lifecycleAbort: z.tuple([z.string().trim().min(1).max(2000)]),
  verifyBundle: z.tuple([handle]),
  listTokens: z.tuple([handle, moduleArgs.optional()]),
  recoverStart: z.tuple([
    z.strictObject({
      bundle: handle,
      module: handle,
      tokenLabel: z.string().min(1).max(32),
      tokenSerial: z.string().min(1).max(32).optional(),
      label: z.string().trim().min(1).max(256).optional(),
      moduleArgs: moduleArgs.optional(),
    }),
  ]),
  recoverAddShare: z.tuple([z.string().min(1).max(2000)]),
  recoverRestore: z.tuple([z.string().min(1).max(256), secretText.optional()]),
  recoverCancel: z.tuple([]),
} as never;

// ---- results ------------------------------------------------------------------------------------

const ok = <T>(value: T): Result<T> => ({ ok: true, value });

/** Turns anything thrown into a one-line error. Only KeyriteError messages (written never to hold a secret) pass through. */
export function toApiError(err: unknown, method: string): ApiError {
  if (err instanceof PlanError) return { code: 'usage', message: err.message, problems: err.problems };
  if (err instanceof HsmError) return { code: `hsm/${err.code}`, message: err.message };
  if (err instanceof KeyriteError) return { code: err.exitCode === 2 ? 'usage' : 'operation', message: err.message };
  if (err instanceof z.ZodError) {
    return { code: 'usage', message: `${method}: invalid arguments (${err.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('; ')})` };
  }
  // Not ours: its message might quote anything, so it stays in main's log, not on screen.
  console.error(`keyrite: internal error in ${method}:`, err instanceof Error ? err.stack : String(err));
  return { code: 'internal', message: `unexpected internal error in ${method} (${err instanceof Error ? err.name : typeof err}); see the app's log` };
}

/** Validates `args` and runs the handler; never throws. Both ipcMain and the test bridge go through here. */
export async function dispatch(handlers: Handlers, method: string, args: unknown[]): Promise<Result<unknown>> {
  if (!(API_METHODS as readonly string[]).includes(method)) return { ok: false, error: { code: 'usage', message: `unknown method '${method}'` } };
  const m = method as ApiMethod;
  const parsed = ARG_SCHEMAS[m].safeParse(args);
  if (!parsed.success) return { ok: false, error: toApiError(parsed.error, m) };
  try {
    return await (handlers[m] as (...a: unknown[]) => Promise<Result<unknown>>)(...(parsed.data as unknown[]));
  } catch (err) {
    return { ok: false, error: toApiError(err, m) };
  }
}

// ---- the handlers -------------------------------------------------------------------------------

function generationSummary(root: RootSummary, signerKeyid: string): GenerationSummary {
  return {
    algorithm: root.algorithm,
    label: root.label,
    id: root.idHex,
    fingerprint: root.fingerprint,
    publicKeySha256: root.publicKeySha256,
    kcv: root.kcv,
    signerKeyid,
  };
}

/** The auditor's check (docs/policy.md, `keyrite verify`); recovery folders' checks are listed after the ceremony's. */
export function coreVerify(dir: string): { valid: boolean; verdict: string; checks: CheckItem[]; warnings: string[] } {
  const r = verifyBundle(dir);
  const checks = [...r.checks, ...r.recoveries.flatMap((rec) => rec.checks.map((c) => ({ ...c, name: `${rec.path}: ${c.name}` })))];
  return { valid: r.valid, verdict: r.verdict, checks, warnings: r.warnings };
}

/** A path or name as it goes into a one-line message: control characters would break the line. */
const shownPath = (p: string): string => (/[\u0000-\u001f\u007f]/.test(p) ? JSON.stringify(p) : p);

/**
 * Where a new plan may be written: an absolute path whose file name ends in `.json`, in an existing
 * folder, and not an existing file or symbolic link. The text is the renderer's, so a plan written
 * as, say, a shell start-up file would be code execution; a `.json` name never is. Returns the
 * normalized path or throws a one-line UsageError.
 */
export function checkPlanSavePath(file: string): string {
  const shown = shownPath(file);
  if (!path.isAbsolute(file)) throw new UsageError(`plan file ${shown}: give the full path (an absolute path), not a relative one`);
  const abs = path.normalize(file);
  const name = path.basename(abs);
  if (!/^[^\u0000-\u001f\u007f]+\.json$/i.test(name)) throw new UsageError(`plan file ${shown}: the file name must end in .json`);
  const dir = path.dirname(abs);
  let dirStat;
  try {
    dirStat = statSync(dir);
  } catch (err) {
    throw new UsageError(`plan file ${shown}: folder ${shownPath(dir)} does not exist (${(err as NodeJS.ErrnoException).code ?? 'unknown'})`);
  }
  if (!dirStat.isDirectory()) throw new UsageError(`plan file ${shown}: ${shownPath(dir)} is not a folder`);
  let st;
  try {
    st = lstatSync(abs);
  } catch {
    return abs; // Not there: the only case that may be written.
  }
  if (st.isSymbolicLink()) throw new UsageError(`plan file ${shown} is a symbolic link; a plan is written only as a new file`);
  throw new OperationError(`${shown} already exists; choose another name (a plan is never overwritten)`);
}

/** Creates `file` exclusively (never through a symbolic link) and writes `text`. */
function writeNewFile(file: string, text: string): void {
  let fd: number | undefined;
  try {
    // O_EXCL already refuses an existing path, dangling links included; O_NOFOLLOW says so twice (0 on Windows).
    fd = openSync(file, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | (fsConstants.O_NOFOLLOW ?? 0), 0o644);
    writeSync(fd, text);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new OperationError(`${shownPath(file)} already exists; choose another name (a plan is never overwritten)`);
    throw new OperationError(`${shownPath(file)} cannot be written (${code ?? 'unknown'})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const FILE_FIELDS = ['wrappingKey', 'importToken'] as const;
export const UNCHECKED_FILE_MESSAGE = 'save the plan first to check its files';

/**
 * The plan check for a plan that is not in a folder the user opened or saved a plan in: every rule
 * except the file references, which come back as `unchecked`. Those fields are replaced by a name
 * that exists nowhere before the check, so no file the renderer names is even looked at.
 */
function checkWithoutFiles(raw: unknown): { valid: boolean; problems: { path: string; message: string }[]; unchecked: { path: string; message: string }[] } {
  // Schema problems first, on the real values: the schema never looks at the disk.
  if (!planSchema.safeParse(raw).success) {
    const { problems } = checkPlanObject(raw, path.resolve('/'));
    return { valid: false, problems, unchecked: [] };
  }
  const copy = structuredClone(raw) as { exports: Record<string, unknown>[] };
  const unchecked: { path: string; message: string }[] = [];
  copy.exports.forEach((e, i) => {
    for (const f of FILE_FIELDS) {
      if (typeof e[f] !== 'string') continue;
      e[f] = 'unchecked';
      unchecked.push({ path: `exports[${i}].${f}`, message: UNCHECKED_FILE_MESSAGE });
    }
  });
  const { plan, problems } = checkPlanObject(copy, path.join(path.resolve('/'), 'keyrite-no-plan-folder'));
  const fileProblem = new RegExp(`^exports\\[\\d+\\]\\.(${FILE_FIELDS.join('|')})$`);
  const rest = problems.filter((p) => !fileProblem.test(p.path));
  return { valid: Boolean(plan) && rest.length === 0, problems: rest, unchecked };
}

export function createHandlers(deps: HandlerDeps): Handlers {
  let ceremony: Ceremony | undefined;
  let checkedIn: string[] = [];
  let acknowledged: string[] = [];
  let recovery: RecoverySession | undefined;
  /** Opened as a rehearsal: the only case where PDF "printing" is allowed. */
  let rehearsalRun = false;
  /** The CUPS queue that passed its checks in this ceremony. */
  let checkedQueue: string | undefined;
  /** The bundle signed last (generate, rotate, re-share or destroy): what co-signing signs. */
  let signed: { bundleDir: string; planId: string } | undefined;
  /** What the user chose in main's dialogs (or the module list); the page holds only the handles. */
  const chosen = new Handles();

  const current = (): Ceremony => {
    if (!ceremony) throw new OperationError('no ceremony is open; open a plan first');
    return ceremony;
  };
  const status = (): CeremonyStatus => ({ state: current().state, checkedIn: [...checkedIn], acknowledged: [...acknowledged] });
  const stateChanged = () => deps.emit({ type: 'state', state: current().state });
  const progress = (step: string, message: string, done = false) => deps.emit({ type: 'progress', step, message, done });

  const handlers: Handlers = {
    async choosePlanFile() {
      const f = deps.dialogs ? await deps.dialogs.chooseFile('Choose the ceremony plan (plan.json)', 'plan') : null;
      return ok(f ? chosen.add('plan', path.resolve(f)) : null);
    },
    async chooseFolder(purpose) {
      const d = deps.dialogs ? await deps.dialogs.chooseFolder(purpose === 'bundle' ? 'Choose the ceremony bundle folder' : 'Choose where the bundle is written') : null;
      return ok(d ? chosen.add('folder', path.resolve(d)) : null);
    },
    async chooseModule() {
      const f = deps.dialogs ? await deps.dialogs.chooseFile('Choose the PKCS#11 module (a .so library)', 'module') : null;
      return ok(f ? chosen.add('module', path.resolve(f)) : null);
    },
    async listModules() {
      return ok((deps.modules ?? discoverModules)().map((m) => chosen.add('module', m)));
    },
    async airgapStatus() {
      return ok(statusOf(deps.networkInterfaces));
    },
    async wordList() {
      // Public: the 1024 SLIP-39 words, for completion while typing.
      return ok([...allWords()]);
    },

    async validatePlanText(text, planHandle) {
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (err) {
        return ok({ valid: false, problems: [{ path: '(plan)', message: `not valid JSON: ${(err as Error).message}` }] });
      }
      // The renderer must not learn whether files exist in folders the user never chose.
      if (planHandle === '') return ok(checkWithoutFiles(raw));
      const dir = path.dirname(chosen.path(planHandle, 'plan', 'plan'));
      const { plan, problems } = checkPlanObject(raw, dir);
      return ok({ valid: Boolean(plan) && problems.length === 0, problems });
    },
    async savePlan(suggested, text) {
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        throw new UsageError(`plan ${shownPath(suggested || 'plan.json')}: not valid JSON`);
      }
      // The user picks the file in main's own dialog; the page only suggests a name.
      const picked = deps.dialogs ? await deps.dialogs.chooseSaveFile('Save the ceremony plan', suggested) : null;
      if (picked === null) return ok(null);
      const file = checkPlanSavePath(picked);
      const { plan, problems } = checkPlanObject(raw, path.dirname(file));
      if (!plan || problems.length) throw new PlanError(shownPath(file), problems);
      writeNewFile(file, text.endsWith('\n') ? text : `${text}\n`);
      return ok(chosen.add('plan', file));
    },
    async openPlan(planHandle, outHandle, rehearsal) {
      const file = chosen.path(planHandle, 'plan', 'plan');
      const outDir = outHandle ? chosen.path(outHandle, 'folder', 'bundle folder') : '';
      // No link, a size cap, and nothing of a file that is not a plan is echoed back.
      assertLooksLikePlan(file, readChosenFile(file));
      if (ceremony && ceremony.state !== 'loaded' && ceremony.state !== 'preflighted' && ceremony.state !== 'completed' && ceremony.state !== 'aborted')
        throw new OperationError(`ceremony '${ceremony.plan.id}' is still running; stop it before opening another plan`);
      ceremony?.close();
      ceremony = undefined;
      signed = undefined;
      checkedIn = [];
      acknowledged = [];
      checkedQueue = undefined;
      const out = outDir.trim() || path.dirname(path.resolve(file));
      const c = Ceremony.load(file, {
        outDir: out,
        frontEnd: 'desktop',
        rehearsal,
        onEvent: (ev) => deps.emit({ type: 'transcript', entry: summarizeEvent(ev) }),
      });
      ceremony = c;
      rehearsalRun = rehearsal;
      const p = c.plan;
      const name = (pid: string) => p.participants.find((x) => x.id === pid)?.name ?? pid;
      const summary: PlanSummary = {
        file: c.loaded.file,
        id: p.id,
        title: p.title,
        bundleDir: c.bundleDir,
        rehearsal,
        participants: p.participants.map((x) => ({ id: x.id, name: x.name, role: x.role })),
        hsm: { module: p.hsm.module, tokenLabel: p.hsm.tokenLabel, tokenSerial: p.hsm.tokenSerial, slot: p.hsm.slot, initArgs: p.hsm.initArgs },
        key: { label: p.key.label, algorithm: p.key.algorithm, sealAfterExport: p.key.sealAfterExport },
        backup: { groupThreshold: p.backup.groupThreshold, groups: p.backup.groups.map((g) => ({ threshold: g.threshold, count: g.custodians.length })), passphrase: p.backup.passphrase },
        custodians: custodianOrder(p).map((o, index) => ({ index, ...o, name: name(o.custodian) })),
        steps: p.steps.map((s) => ({ id: s.id, text: s.text, ackBy: [...s.ackBy] })),
        exports: p.exports.map((e) => ({ name: e.name, kind: e.kind })),
      };
      stateChanged();
      return ok(summary);
    },

    async preflight() {
      const report = current().preflight();
      stateChanged();
      return ok({ ok: report.ok, checks: report.checks.map((c) => ({ name: c.name, ok: c.ok, detail: c.detail })), network: statusOf(deps.networkInterfaces) });
    },
    async begin(networkAcknowledged = false) {
      const c = current();
      const admin = c.plan.participants.find((p) => p.role === 'administrator')!.id;
      // Checked before begin(), so a refusal leaves nothing behind (as the CLI's prompt does).
      const networkAck = networkAcknowledgement(deps.networkInterfaces, networkAcknowledged, admin);
      c.begin();
      // The contract's record of an acknowledged live network: an exception at step "network".
      if (networkAck) c.addNote(networkAck, admin, 'exception', 'network');
      stateChanged();
      return ok(status());
    },
    async checkIn(participantId) {
      current().checkIn(participantId);
      if (!checkedIn.includes(participantId)) checkedIn.push(participantId);
      return ok(status());
    },
    async acknowledge(stepId, by) {
      current().acknowledge(stepId, by, 'app');
      acknowledged.push(stepId);
      return ok(status());
    },
    async login(pin) {
      const checks = current().login(pin);
      return ok({ checks: checks.map((c) => ({ name: c.name, ok: c.ok, detail: c.detail })) });
    },
    async generate() {
      // The CLI checks its printer in preflight; the app, on the checks screen. Either way, before the key exists.
      if (!rehearsalRun && checkedQueue === undefined)
        throw new OperationError('check the printer first (on the checks screen): a production ceremony prints its sheets on a checked local printer, checked before the key is made');
      progress('generate', 'Generating the keys inside the HSM. This can take a minute for RSA keys.');
      const r = current().generate();
      progress('generate', 'Keys generated and checked.', true);
      stateChanged();
      return ok(generationSummary(r.root, r.signerKeyid));
    },
    async backup(passphrase) {
      const shares = current().backup(passphrase);
      stateChanged();
      return ok(shares.map((s) => ({ index: s.index, group: s.group, member: s.member, custodian: s.custodian, name: s.name, checkValue: s.checkValue })));
    },
    async listPrinters() {
      return ok(await deps.printer.listPrinters());
    },
    async checkPrinter(queue) {
      const c = current();
      const names = (await deps.printer.listPrinters()).map((p) => p.name);
      if (!names.includes(queue)) throw new UsageError(`printer ${shownPath(queue)} is not one of this machine's printers (${names.length ? names.map(shownPath).join(', ') : 'none found'}); choose one from the list`);
      const r = await deps.printer.checkPrinter(queue);
      c.recordPrinterCheck(r);
      const passed = r.checks.every((x) => x.ok);
      checkedQueue = passed ? queue : undefined;
      return ok({ ok: passed, checks: r.checks.map((x) => ({ name: x.name, ok: x.ok, detail: x.detail })) });
    },
    async printSheet(index, target, reprintReason) {
      const c = current();
      if ('printer' in target) {
        // Only a printer this machine reports (the renderer cannot name a queue of its own choosing).
        const names = (await deps.printer.listPrinters()).map((p) => p.name);
        if (!names.includes(target.printer))
          throw new UsageError(`printer ${shownPath(target.printer)} is not one of this machine's printers (${names.length ? names.map(shownPath).join(', ') : 'none found'}); choose one from the list`);
      }
      const share = c.custodianShares[index];
      if (share?.confirmed) {
        if (!reprintReason)
          throw new OperationError(`${share.name}'s share is already confirmed; a reprint needs an exception recorded first (give the reason for the reprint)`);
        // The deviation goes into the transcript before another copy of the words exists.
        const admin = c.plan.participants.find((p) => p.role === 'administrator')?.id ?? c.plan.participants[0].id;
        c.addNote(`reprint of ${share.name}'s share (group ${share.group}, member ${share.member}): ${reprintReason}`, admin, 'exception');
      }
      let output: string;
      if ('pdf' in target) {
        if (!rehearsalRun) throw new OperationError('PDF output is only for rehearsals; this ceremony must print on paper');
        const sheet = await c.shareSheet(index);
        const file = path.join(path.dirname(c.bundleDir), `${c.plan.id}-rehearsal-shares`, rehearsalPdfName(sheet.fileBase));
        output = await deps.printer.printToPdf(sheet.html, file);
        c.markPrinted(index, { kind: 'file', file: output });
      } else {
        // The queue's checks (core/printing) before its first sheet: recorded as printer.checked, refused with the fix.
        if (checkedQueue !== target.printer) {
          const r = await deps.printer.checkPrinter(target.printer);
          c.recordPrinterCheck(r);
          assertPrinter(r);
          checkedQueue = target.printer;
        }
        const sheet = await c.shareSheet(index);
        const job = await deps.printer.print(sheet.html, target.printer);
        c.markPrinted(index, { kind: 'printer', queue: target.printer, jobId: job.jobId, spoolClean: job.spoolClean });
        output = target.printer;
      }
      return ok({ output });
    },
    async confirmShare(index, words) {
      const c = current();
      c.confirmShare(index, words, 'typed');
      stateChanged();
      return ok({ checkValue: c.custodianShares[index].checkValue });
    },
    async testRecovery(passphrase) {
      progress('test-recovery', 'Combining shares and unwrapping the backup inside the HSM.');
      const r = current().testRecovery(passphrase);
      progress('test-recovery', r.detail, true);
      stateChanged();
      return ok({ ok: r.ok, detail: r.detail });
    },
    async runExports() {
      const out = current().runExports();
      stateChanged();
      return ok(out.map((e) => ({ target: e.target, kind: e.kind, algorithm: e.algorithm, files: e.files.map((f) => ({ path: f.path, sha256: f.sha256 })) })));
    },
    async finish() {
      const r = current().finish();
      signed = { bundleDir: r.bundleDir, planId: current().plan.id };
      stateChanged();
      return ok({
        bundleDir: r.bundleDir,
        chainHead: r.chainHead,
        signers: r.signers,
        root: r.root ? generationSummary(r.root, r.signers.find((s) => s.role === 'ceremony')?.keyid ?? '') : undefined,
        statementSha256: r.statementSha256,
      });
    },
    ...lifecycleHandlers({
      chosen,
      printer: deps.printer,
      emit: deps.emit,
      networkInterfaces: deps.networkInterfaces,
      opened: (rehearsal) => {
        signed = undefined;
        rehearsalRun = rehearsal;
      },
      signed: (s) => (signed = s),
    }),
    ...cosigningHandlers({
      printer: deps.printer,
      signed: () => {
        if (signed) return signed;
        const c = current();
        throw new OperationError(`the ceremony is at step '${c.state}'; co-signing and the attestation come after it is signed`);
      },
      rehearsal: () => rehearsalRun, modulePath: (h) => chosen.path(h, 'module', 'PKCS#11 module') }),
    async abort(reason) {
      const c = current();
      c.abort(reason);
      stateChanged();
      // What to do next (e.g. run `keyrite ceremony abort BUNDLE` to remove the keys), as recorded.
      const stopped = [...c.events].reverse().find((e) => e.type === 'ceremony.aborted');
      const advice = (stopped?.data as { advice?: string } | undefined)?.advice ?? 'nothing was written or created yet';
      return ok({ state: c.state, advice });
    },

    async verifyBundle(bundle) {
      const abs = chosen.path(bundle, 'folder', 'bundle');
      const report = await deps.verify(abs);
      const file = path.join(abs, 'transcript.jsonl');
      const timeline = existsSync(file) ? readTranscript(file).events.map(summarizeEvent) : [];
      const out: VerifySummary = { bundleDir: abs, valid: report.valid, verdict: report.verdict ?? (report.valid ? 'VALID' : 'INVALID'), checks: report.checks.map((c) => ({ name: c.name, ok: c.ok, status: c.status ?? (c.ok ? 'pass' : 'fail'), detail: c.detail })), warnings: report.warnings ?? [], timeline };
      return ok(out);
    },

    async listTokens(module, moduleArgs) {
      const m = openModule(chosen.path(module, 'module', 'PKCS#11 module'), { initArgs: moduleArgs || undefined });
      try {
        return ok(m.tokens().map((t) => ({ label: t.label, serialNumber: t.serialNumber, manufacturer: t.manufacturer, model: t.model, initialized: t.flags.includes('TOKEN_INITIALIZED') })));
      } finally {
        m.close();
      }
    },
    async recoverStart(options) {
      recovery?.cancel();
      recovery = startRecovery({ ...options, bundle: chosen.path(options.bundle, 'folder', 'bundle'), module: chosen.path(options.module, 'module', 'PKCS#11 module') }, (ev) => deps.emit({ type: 'transcript', entry: summarizeEvent(ev) }));
      return ok(recovery.info);
    },
    async recoverAddShare(words) {
      if (!recovery) throw new OperationError('no recovery is under way; choose a bundle and a token first');
      return ok(recovery.addShare(words));
    },
    async recoverRestore(pin, passphrase) {
      const session = recovery;
      if (!session) throw new OperationError('no recovery is under way; choose a bundle and a token first');
      progress('restore', 'Restoring the key into the token.');
      try {
        // A wrong PIN, passphrase or a taken label keeps the session (and the entered shares) so the
        // team can try again; any other failure closes it (module released, shares wiped).
        const r = session.restore(pin, passphrase);
        progress('restore', 'Key restored.', true);
        return ok(r);
      } finally {
        if (session.closed && recovery === session) recovery = undefined;
      }
    },
    async recoverCancel() {
      recovery?.cancel();
      recovery = undefined;
      return ok(null);
    },
  };
  return handlers;
}

// ---- Electron wiring ------------------------------------------------------------------------------

export interface IpcMainLike {
  handle(channel: string, listener: (event: { senderFrame?: { url: string; parent?: unknown } | null }, ...args: unknown[]) => unknown): void;
}

/** One ipcMain.handle per method: sender checked first, then arguments validated, then the handler. */
export function registerIpc(ipcMain: IpcMainLike, handlers: Handlers, isTrustedSender: (event: { senderFrame?: { url: string; parent?: unknown } | null }) => boolean): void {
  for (const method of API_METHODS) {
    ipcMain.handle(`${IPC_PREFIX}${method}`, (event, ...args) => {
      if (!isTrustedSender(event)) return { ok: false, error: { code: 'forbidden', message: `${method}: refused a call from a page that is not the app` } } satisfies Result<never>;
      return dispatch(handlers, method, args);
    });
  }
}

export { EVENT_CHANNEL };
