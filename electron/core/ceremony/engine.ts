import { existsSync } from 'node:fs';
import path from 'node:path';
import { KeyriteError, OperationError, UsageError } from '../errors.ts';
import { endSession, exactSelector, openModule, judgeMechanisms, kwpSelfTest, selectOn } from '../hsm/index.ts';
import { judgeCapabilities, refusals, type CapabilityPlan } from '../hsm/capabilities.ts';
import { proveCapabilities, type AttributeQuirk } from '../hsm/capability-probe.ts';
import type { HsmModule, HsmSession, KwpInfo, MechanismInfo, ModuleOptions, RootKey, TokenInfo, TokenSelectedBy } from '../hsm/types.ts';
import { combineMnemonics, shareCheckValue, splitSecret } from '../shares/index.ts';
import { renderReport, renderShareSheet, renderShareText, shareSheetFileBase } from '../sheets/index.ts';
import { TranscriptWriter } from '../transcript/writer.ts';
import { buildStatement, signEnvelope, keyidOf, pae, statementPayload, verifySignature, type EnvelopeSigner } from '../transcript/dsse.ts';
import type { EventData, EventType, TranscriptEvent } from '../transcript/events.ts';
import { preflightExports, probeOaepHashes, runExport } from '../exports/index.ts';
import { makeNewDir, sha256Hex, toPem, writeNewFile } from '../util/files.ts';
import { APP_NAME, APP_VERSION } from '../version.ts';
import { runningCode } from '../code.ts';
import { hostRecord } from './host.ts';
import { addAdvice, publishBundle, stagingDirFor, stopAdvice } from './crash-safety.ts';
import { custodianOrder, loadPlan, type LoadedPlan, type Plan } from './plan.ts';
import { attributeChecks, keyIdentity, rootSignatureScheme, sealProblem, signerSchemeOf } from './key-checks.ts';
import { ceremonyPredicate } from './statement.ts';
import { rotationOf } from '../lifecycle/rotate.ts';
import { checkWrittenEnvelope, destroyOneTimeSigner } from './one-time-signer.ts';
import type { PrinterCheckResult } from '../printing/checks.ts';

export type FrontEnd = 'cli' | 'desktop' | 'demo';

export interface CeremonyOptions {
  outDir: string;
  frontEnd: FrontEnd;
  /** Rehearsals: demo, `ceremony run --rehearsal`, the app's rehearsal mode. Recorded in ceremony.started. */
  rehearsal: boolean;
  /** Called after every event is on disk (progress for the CLI and the app). */
  onEvent?: (event: TranscriptEvent) => void;
  /** Opens the PKCS#11 module instead of core/hsm's openModule (fault-injection tests). */
  openModule?: (path: string, opts?: ModuleOptions) => HsmModule;
  /** C_Initialize reserved string from the command line (--module-args); the plan's hsm.initArgs wins, and both must agree. */
  moduleArgs?: string;
  /**
   * Test seam (fault-injection tests): handed each buffer that holds a backup key (the KEK at backup,
   * the combined KEK in the test recovery) so the test can check it is zeroed on every path.
   */
  kekProbe?: (buffer: Uint8Array, where: 'backup' | 'recovery-test') => void;
}

/** How a sheet went out: to a CUPS queue (with the spool check) or, in rehearsals only, to a file. */
export type SheetOutput = { kind: 'printer'; queue: string; jobId: number; spoolClean: boolean } | { kind: 'file'; file: string };

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface PreflightReport {
  ok: boolean;
  checks: Check[];
  token?: TokenInfo;
}

/** What a custodian's share is, without its words: safe for any front end. */
export interface CustodianShare {
  index: number;
  group: number;
  member: number;
  custodian: string;
  name: string;
  checkValue: string;
  printed: boolean;
  confirmed: boolean;
}

export interface RootSummary {
  algorithm: string;
  label: string;
  idHex: string;
  publicKeySha256?: string;
  kcv?: string;
  /** SHA-256 of the SPKI in hex, or "KCV xxxxxx" for AES. */
  fingerprint: string;
}

export type CeremonyState =
  | 'loaded'
  | 'preflighted'
  | 'begun'
  | 'generated'
  | 'backed-up'
  | 'confirmed'
  | 'recovery-tested'
  | 'exported'
  | 'completed'
  | 'aborted';

const DSSE_KEYCHECK_TYPE = 'application/vnd.keyrite.key-check+json';

/**
 * One ceremony, from plan to bundle, as a state machine. Each step checks that the one before it
 * happened; every step that does something writes its event before it returns. The CLI and the
 * desktop app both drive this class; nothing here knows which one does.
 */
export class Ceremony {
  readonly loaded: LoadedPlan;
  readonly plan: Plan;
  readonly bundleDir: string;
  state: CeremonyState = 'loaded';

  private module?: HsmModule;
  private session?: HsmSession;
  private token?: TokenInfo;
  private selectedBy?: TokenSelectedBy;
  private capabilities?: CapabilityPlan;
  private quirks: AttributeQuirk[] = [];
  private mechanisms: MechanismInfo[] = [];
  private preflightChecks: Check[] = [];
  private loginChecks: Check[] = [];
  private kwp?: { info: KwpInfo; ok: boolean };
  private writer?: TranscriptWriter;
  private signer?: RootKey & { spki: Buffer; keyid: string };
  private root?: RootKey & { spki?: Buffer; kcv?: string };
  private rootSummary?: RootSummary;
  private kek?: Buffer;
  private kekKcv?: string;
  private mnemonics: string[] = [];
  private wrapped?: Buffer;
  private shares: CustodianShare[] = [];
  private confirmed = new Map<number, string>();
  private step = 'loaded';
  private written: TranscriptEvent[] = [];
  private printer?: PrinterCheckResult;

  private constructor(loaded: LoadedPlan, private readonly opts: CeremonyOptions) {
    this.loaded = loaded;
    this.plan = loaded.plan;
    this.bundleDir = path.resolve(opts.outDir, loaded.plan.id);
  }

  /** Reads and checks the plan (PlanError, exit 2, lists every problem). Touches no HSM. */
  static load(planFile: string, opts: CeremonyOptions): Ceremony {
    return new Ceremony(loadPlan(planFile, { outDir: opts.outDir }), opts);
  }

  /** The events written so far (the transcript's lines, parsed). */
  get events(): TranscriptEvent[] {
    return this.written;
  }

  get custodianShares(): CustodianShare[] {
    return this.shares.map((s) => ({ ...s }));
  }

  get root_(): RootSummary | undefined {
    return this.rootSummary;
  }

  private record<T extends EventType>(type: T, data: EventData[T], actor = 'system'): TranscriptEvent {
    if (!this.writer) throw new OperationError(`internal: '${type}' before the transcript was started`);
    const ev = this.writer.append<T>(type, actor, data as never) as TranscriptEvent;
    this.written.push(ev);
    this.opts.onEvent?.(ev);
    return ev;
  }

  private expect(...states: CeremonyState[]): void {
    if (!states.includes(this.state))
      throw new OperationError(`ceremony '${this.plan.id}' is at step '${this.state}', not ${states.map((s) => `'${s}'`).join(' or ')}`);
  }

  private get sess(): HsmSession {
    if (!this.session) throw new OperationError('not logged in to the token');
    return this.session;
  }

  /** Module loads, token found, mechanisms present, output folder absent, exports' wrapping keys usable. No PIN. */
  preflight(): PreflightReport {
    this.expect('loaded', 'preflighted');
    const checks: Check[] = [];
    const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
    add('plan', true, `plan ${path.basename(this.loaded.file)} (sha256 ${this.loaded.sha256.slice(0, 16)}…) is valid`);
    const exists = existsSync(this.bundleDir);
    add('output folder', !exists, exists ? `${this.bundleDir} already exists; a ceremony never overwrites a bundle` : `${this.bundleDir} does not exist yet`);
    try {
      // SPEC §2: paths in the plan are relative to the plan's folder, the module's too.
      this.module ??= (this.opts.openModule ?? openModule)(this.loaded.resolve(this.plan.hsm.module), { initArgs: this.initArgs() });
      add('module', true, `${this.module.info.path} (${this.module.info.library} ${this.module.info.libraryVersion}, sha256 ${this.module.info.sha256.slice(0, 16)}…)`);
      const h = this.plan.hsm;
      const picked = selectOn(this.module, { label: h.tokenLabel, serial: h.tokenSerial, slotId: h.slot === undefined ? undefined : String(h.slot) });
      this.token = picked.token;
      this.selectedBy = picked.selectedBy;
      add('token', true, `'${this.token.label}' ${this.token.manufacturer} ${this.token.model} serial ${this.token.serialNumber} slot ${this.token.slotId} (by ${this.selectedBy})`);
      this.mechanisms = this.module.mechanisms(exactSelector(this.token));
      // The same judgement as `hsm list` (capabilities.ts): flags and key sizes, native or fallback or refused.
      const caps = judgeCapabilities(this.mechanisms, this.plan.key.algorithm as RootKey['algorithm'], { exports: this.plan.exports.length, tokenFlags: this.token.flags });
      this.capabilities = caps;
      const fallbacks = caps.rows.filter((r) => r.path === 'fallback');
      add(
        'capabilities',
        caps.ok,
        caps.ok
          ? `all ${caps.rows.length} capabilities available${fallbacks.length ? `; fallback for ${fallbacks.map((f) => `${f.capability} (${f.mechanism})`).join(', ')}` : ', all native'}`
          : `token '${this.token.label}' cannot run this ceremony: ${refusals(caps)}`,
      );
      for (const c of preflightExports(this.plan, this.loaded, {
        rootAlgorithm: this.plan.key.algorithm as RootKey['algorithm'],
        mechanisms: this.mechanisms,
        tokenLabel: this.token.label,
        tokenManufacturer: this.token.manufacturer,
      }))
        checks.push(c);
    } catch (err) {
      if (!(err instanceof KeyriteError)) throw err;
      add(checks.some((c) => c.name === 'module') ? 'token' : 'module', false, err.message);
      // A module that is not a PKCS#11 library, or a file that does not exist, is bad input (exit 2).
      if (err.exitCode === 2) throw err;
    }
    this.preflightChecks = checks;
    const ok = checks.every((c) => c.ok);
    if (ok) this.state = 'preflighted';
    return { ok, checks, token: this.token };
  }

  /** The plan's hsm.initArgs, or --module-args; a reviewed plan is not overridden from the command line. */
  private initArgs(): string | undefined {
    const fromPlan = this.plan.hsm.initArgs;
    const fromCli = this.opts.moduleArgs;
    if (fromPlan !== undefined && fromCli !== undefined && fromPlan !== fromCli)
      throw new UsageError('--module-args differs from the plan\'s hsm.initArgs; the reviewed plan decides: drop --module-args or fix the plan');
    return fromPlan ?? fromCli;
  }

  /** Throws the first failed preflight check as a one-line error. */
  static assertPreflight(report: PreflightReport): void {
    const bad = report.checks.find((c) => !c.ok);
    if (bad) throw new OperationError(`preflight: ${bad.name}: ${bad.detail}`);
  }

  /** Logs in; then checks the labels are free, runs the RFC 5649 self-test, and proves the capabilities with throwaway session objects. */
  login(pin: string): Check[] {
    this.expect('preflighted', 'begun');
    if (!this.module || !this.token) throw new OperationError('preflight has not found the token');
    if (this.session) return this.loginChecks;
    try {
      // The token preflight chose, and no other: label, serial and slot of this process's module.
      this.session = this.module.login(exactSelector(this.token), pin);
    } catch (err) {
      if (this.writer && err instanceof KeyriteError) this.record('exception.recorded', { text: `login failed: ${err.message}`, step: 'login' });
      if (!this.writer) addAdvice(err, stopAdvice(err, { bundleDir: this.bundleDir, tokenLabel: this.token.label, keysAnnounced: false, bundleExists: false }));
      throw err;
    }
    const checks: Check[] = [];
    for (const label of [this.plan.key.label, this.signerLabel()]) {
      const found = this.session.findObjects({ label });
      checks.push({ name: `label '${label}' free`, ok: found.length === 0, detail: found.length ? `token '${this.token.label}' already has ${found.length} object(s) labelled '${label}'` : 'no object on the token has this label' });
    }
    const alg = this.plan.key.algorithm as RootKey['algorithm'];
    this.kwp = kwpSelfTest(this.session);
    // Throwaway session objects prove what the mechanism list promised, before any token object exists.
    const proof = proveCapabilities(this.session, alg, this.capabilities!);
    checks.push(...proof.checks);
    this.quirks = proof.quirks;
    if (proof.quirks.length)
      checks.push({ name: 'attribute quirks', ok: true, detail: proof.quirks.map((q) => `CKA_${q.attribute === 'local' ? 'LOCAL' : q.attribute === 'alwaysSensitive' ? 'ALWAYS_SENSITIVE' : 'NEVER_EXTRACTABLE'} ${q.reported === 'unreported' ? 'not reported' : 'reported false'} on a ${q.provenOn}`).join('; ') });
    checks.push({ name: 'RFC 5649 self-test', ok: this.kwp.ok, detail: `${this.kwp.info.mechanism}${this.kwp.info.zeroPadsInput ? ' (token zero-pads its input first)' : ''}: ${this.kwp.ok ? 'matches the software result' : 'does NOT match the software result'}` });
    if (this.plan.exports.length) {
      // Now that the token can be asked, the exports' needs are checked against what it really does.
      const exportChecks = preflightExports(this.plan, this.loaded, {
        rootAlgorithm: alg,
        mechanisms: this.mechanisms,
        tokenLabel: this.token.label,
        tokenManufacturer: this.token.manufacturer,
        oaepHashes: probeOaepHashes(this.session),
        kwp: this.kwp.info,
      });
      checks.push(...exportChecks.filter((c) => !c.ok));
    }
    const bad = checks.find((c) => !c.ok);
    if (bad) {
      // Nothing has been created on the token: log out so that a later login starts afresh, and
      // (once a transcript exists) record why the ceremony cannot go on.
      if (this.writer) this.abort(`${bad.name}: ${bad.detail}`);
      else this.closeSession();
      throw new OperationError(`${bad.name}: ${bad.detail}`);
    }
    this.loginChecks = checks;
    if (this.writer) this.recordLogin();
    return checks;
  }

  private signerLabel(): string {
    return `keyrite-signer:${this.plan.id}`;
  }

  private recordLogin(): void {
    this.record('hsm.logged-in', { tokenLabel: this.token!.label, tokenSerial: this.token!.serialNumber });
    this.record('preflight.passed', { checks: this.loginChecks });
    this.record('selftest.kwp', {
      mechanism: this.kwp!.info.mechanism,
      mechanismType: `0x${this.kwp!.info.mechanismType.toString(16).padStart(8, '0')}`,
      zeroPadsInput: this.kwp!.info.zeroPadsInput,
      ok: this.kwp!.ok,
    });
  }

  /** Creates the bundle folder (never an existing one), plan.json byte for byte, and the transcript. */
  begin(): void {
    this.expect('preflighted');
    if (this.writer) return;
    // Built in a staging folder, renamed into place once its first events are on disk: a crash
    // never leaves a bundle folder without a readable transcript (docs/reliability.md).
    const staging = stagingDirFor(this.bundleDir);
    makeNewDir(staging);
    writeNewFile(path.join(staging, 'plan.json'), this.loaded.bytes);
    this.writer = TranscriptWriter.create(path.join(staging, 'transcript.jsonl'));
    this.record('ceremony.started', {
      ceremonyId: this.plan.id,
      title: this.plan.title,
      planSha256: this.loaded.sha256,
      app: { name: APP_NAME, version: APP_VERSION, code: runningCode() },
      host: hostRecord(),
      frontEnd: this.opts.frontEnd,
      rehearsal: this.opts.rehearsal,
      participants: this.plan.participants.map((p) => ({ id: p.id, name: p.name, role: p.role })),
      ...this.loaded.lifecycle,
    });
    const m = this.module!.info;
    this.record('hsm.selected', {
      module: { path: m.path, sha256: m.sha256, manufacturer: m.manufacturer, library: m.library, libraryVersion: m.libraryVersion, cryptokiVersion: m.cryptokiVersion, ...(m.initArgs !== undefined ? { initArgs: m.initArgs } : {}) },
      token: { label: this.token!.label, manufacturer: this.token!.manufacturer, model: this.token!.model, serialNumber: this.token!.serialNumber, firmware: this.token!.firmware, flags: this.token!.flags, slotId: this.token!.slotId, selectedBy: this.selectedBy ?? 'label' },
      mechanisms: judgeMechanisms(this.mechanisms, this.plan.key.algorithm as RootKey['algorithm']),
      capabilities: this.capabilities?.rows.map((r) => ({ ...r })) ?? [],
    });
    this.record('preflight.passed', { checks: this.preflightChecks });
    if (this.printer) this.record('printer.checked', this.printer);
    if (this.session) this.recordLogin();
    publishBundle(staging, this.bundleDir);
    this.state = 'begun';
    // Check-ins and the plan's steps come next; a stop now is recorded at step 'steps'.
    this.step = 'steps';
  }

  /**
   * The CUPS queue's checks (core/printing), run before any key exists. Recorded as printer.checked
   * (now, or when the transcript begins); a production sheet is printed only on a queue that passed.
   */
  recordPrinterCheck(r: PrinterCheckResult): void {
    this.printer = { queue: r.queue, deviceUri: r.deviceUri, checks: r.checks.map((c) => ({ name: c.name, ok: c.ok, detail: c.detail })) };
    if (this.writer && !this.writer.closed) this.record('printer.checked', this.printer);
  }

  checkIn(participantId: string): void {
    this.expect('begun');
    const p = this.plan.participants.find((x) => x.id === participantId);
    if (!p) throw new OperationError(`'${participantId}' is not a participant of this plan`);
    this.record('participant.checked-in', { participant: p.id, role: p.role }, p.id);
  }

  acknowledge(stepId: string, by: string[], method: 'prompt' | 'app' | 'ack-all'): void {
    this.expect('begun');
    const s = this.plan.steps.find((x) => x.id === stepId);
    if (!s) throw new OperationError(`'${stepId}' is not a step of this plan`);
    const done = new Set(this.events.filter((e) => e.type === 'step.acknowledged').map((e) => (e.data as { step: string }).step));
    const next = this.plan.steps.find((x) => !done.has(x.id));
    if (next?.id !== stepId) throw new OperationError(`step '${stepId}' cannot be acknowledged before step '${next?.id}'`);
    const missing = s.ackBy.filter((a) => !by.includes(a));
    if (missing.length) throw new OperationError(`step '${stepId}' must be acknowledged by ${missing.join(', ')}`);
    this.record('step.acknowledged', { step: s.id, text: s.text, by: s.ackBy, method }, s.ackBy[0]);
  }

  /** A note or an exception (a deviation from the plan), by a participant, into the transcript and the report. */
  addNote(text: string, actor: string, kind: 'note' | 'exception' = 'note', step: string = this.step): void {
    if (!this.writer || this.writer.closed) throw new OperationError('notes can be added only while a ceremony is running');
    if (!this.plan.participants.some((p) => p.id === actor)) throw new OperationError(`'${actor}' is not a participant of this plan`);
    const t = text.trim();
    if (!t) throw new OperationError('a note needs some text');
    if (kind === 'note') this.record('note.added', { text: t }, actor);
    else this.record('exception.recorded', { text: t, step }, actor);
  }

  /** Steps not yet acknowledged, in order. */
  pendingSteps(): Plan['steps'] {
    const done = new Set(this.events.filter((e) => e.type === 'step.acknowledged').map((e) => (e.data as { step: string }).step));
    return this.plan.steps.filter((s) => !done.has(s.id));
  }

  /** The transcript signer, then the root key, each announced before it is created, then verified. */
  generate(): { root: RootSummary; signerKeyid: string } {
    this.expect('begun');
    const pending = this.pendingSteps();
    if (pending.length) throw new OperationError(`step '${pending[0].id}' has not been acknowledged`);
    const s = this.sess;
    this.step = 'signer';
    const signerId = s.random(16);
    const signerAlg = this.capabilities?.signer ?? 'ec-p384';
    this.record('key.generating', { role: 'signer', label: this.signerLabel(), id: signerId.toString('hex'), algorithm: signerAlg });
    const signer = s.generateSignerKey(this.signerLabel(), signerId, signerAlg);
    const signerSpki = s.publicKeySpki(signer.publicKey ?? signer.key);
    const keyid = keyidOf(signerSpki);
    const signerAttrs = s.readAttributes(signer.key);
    const signerProblems = attributeChecks(signerAttrs, { label: this.signerLabel(), idHex: signerId.toString('hex'), algorithm: signerAlg, extractable: false, quirks: this.quirks });
    if (signerProblems.some((c) => !c.ok)) this.fail('signer', `signer key attributes: ${signerProblems.find((c) => !c.ok)!.detail}`);
    writeNewFile(path.join(this.bundleDir, 'keys', `${keyid}.pub.pem`), toPem(signerSpki));
    this.signer = { ...signer, spki: signerSpki, keyid };
    this.record('signer.generated', { role: 'ceremony', label: this.signerLabel(), id: signerId.toString('hex'), keyid, spki: signerSpki.toString('base64'), attributes: { ...signerAttrs } });

    this.step = 'root';
    const alg = this.plan.key.algorithm as RootKey['algorithm'];
    const rootId = s.random(16);
    this.record('key.generating', { role: 'root', label: this.plan.key.label, id: rootId.toString('hex'), algorithm: alg }, this.adminId());
    const root = s.generateRootKey(alg, this.plan.key.label, rootId);
    const attrs = s.readAttributes(root.key);
    const { kcv, spki, fields } = keyIdentity(s, root);
    const data: EventData['key.generated'] = { label: this.plan.key.label, id: rootId.toString('hex'), algorithm: alg, attributes: { ...attrs }, ...fields };
    if (spki) {
      writeNewFile(path.join(this.bundleDir, 'keys', 'root.pub.pem'), toPem(spki));
      // A root that can sign also signs the statement, so it is a transcript signer: keys/<keyid>.pub.pem.
      if (rootSignatureScheme(alg)) writeNewFile(path.join(this.bundleDir, 'keys', `${keyidOf(spki)}.pub.pem`), toPem(spki));
    }
    this.root = { ...root, spki, kcv };
    this.record('key.generated', data, this.adminId());
    this.rootSummary = {
      algorithm: alg,
      label: this.plan.key.label,
      idHex: rootId.toString('hex'),
      publicKeySha256: spki ? sha256Hex(spki) : undefined,
      kcv,
      fingerprint: spki ? sha256Hex(spki) : `KCV ${kcv}`,
    };

    this.step = 'verification';
    const checks = attributeChecks(attrs, { label: this.plan.key.label, idHex: rootId.toString('hex'), algorithm: alg, extractable: true, quirks: this.quirks });
    const scheme = rootSignatureScheme(alg);
    if (scheme && spki) {
      const msg = pae(DSSE_KEYCHECK_TYPE, Buffer.from(JSON.stringify({ ceremonyId: this.plan.id, purpose: 'key-verification', nonce: s.random(16).toString('hex') })));
      const sig = s.sign(root.key, scheme, msg);
      const ok = verifySignature(spki, msg, sig);
      checks.push({ name: 'signature', ok, detail: ok ? `${scheme} signature over a domain-separated message verifies with the public key` : `${scheme} signature does not verify with the public key` });
    } else {
      checks.push({ name: 'kcv', ok: /^[0-9a-f]{6}$/.test(kcv ?? ''), detail: `key check value ${kcv} computed in the token with ${this.capabilities?.kcv === 'ecb' ? 'AES-CMAC from two AES-ECB encryptions (no CKM_AES_CMAC)' : 'AES-CMAC'}` });
    }
    this.record('key.verified', { checks });
    const bad = checks.find((c) => !c.ok);
    if (bad) this.fail('verification', `root key ${bad.name}: ${bad.detail}`);
    this.state = 'generated';
    this.step = 'generated';
    return { root: this.rootSummary, signerKeyid: keyid };
  }

  private adminId(): string {
    return this.plan.participants.find((p) => p.role === 'administrator')!.id;
  }

  /** KEK from the token's RNG, split with SLIP-39, imported as a session object, root wrapped with RFC 5649. */
  backup(passphrase?: string): CustodianShare[] {
    this.expect('generated');
    if (this.plan.backup.passphrase && !passphrase) throw new OperationError('the plan asks for a SLIP-39 passphrase, and none was given');
    const s = this.sess;
    this.step = 'backup';
    const kek = s.random(32);
    this.kek = kek;
    this.opts.kekProbe?.(kek, 'backup');
    const b = this.plan.backup;
    let kekRef: ReturnType<HsmSession['importAesKey']> | undefined;
    try {
      const split = splitSecret(kek, {
        groupThreshold: b.groupThreshold,
        groups: b.groups.map((g) => ({ threshold: g.threshold, count: g.custodians.length })),
        passphrase: b.passphrase ? passphrase : undefined,
        iterationExponent: b.iterationExponent,
        extendable: b.extendable,
      });
      // Only what the backup needs: wrap the root, and sign for the KCV (AES-CMAC). No unwrap, no decrypt.
      kekRef = s.importAesKey(kek, `keyrite-kek:${this.plan.id}`, { wrap: true, sign: true });
      this.kekKcv = s.aesKcv(kekRef);
      const order = custodianOrder(this.plan);
      this.mnemonics = order.map((o) => split.groups[o.group - 1].mnemonics[o.member - 1]);
      this.shares = order.map((o, index) => ({
        index,
        ...o,
        name: this.plan.participants.find((p) => p.id === o.custodian)!.name,
        checkValue: shareCheckValue(this.mnemonics[index]),
        printed: false,
        confirmed: false,
      }));
      this.record('backup.split', {
        scheme: 'slip39',
        identifier: split.identifier,
        extendable: split.extendable,
        iterationExponent: split.iterationExponent,
        groupThreshold: split.groupThreshold,
        groups: split.groups.map((g) => ({ threshold: g.threshold, count: g.count })),
        kekKcv: this.kekKcv,
        passphrase: b.passphrase,
        shares: this.shares.map((x) => ({ group: x.group, member: x.member, custodian: x.custodian, checkValue: x.checkValue })),
      });
      const { wrapped, info } = s.wrapKwp(kekRef, this.root!.key);
      this.wrapped = wrapped;
      writeNewFile(path.join(this.bundleDir, 'backup', 'root.wrapped'), wrapped);
      this.record('backup.wrapped', {
        mechanism: info.mechanism,
        mechanismType: `0x${info.mechanismType.toString(16).padStart(8, '0')}`,
        zeroPadsInput: info.zeroPadsInput,
        wrapped: wrapped.toString('base64'),
        sha256: sha256Hex(wrapped),
        path: 'backup/root.wrapped',
      });
    } catch (err) {
      // A failed split, import or wrap: the key is wiped here, not only when the ceremony is closed.
      this.wipeKek();
      throw err;
    } finally {
      if (kekRef) s.destroy(kekRef);
    }
    this.state = 'backed-up';
    return this.custodianShares;
  }

  /** The printable sheet of one custodian. Main-side only: it holds the share's words. */
  async shareSheet(index: number, paper: 'A4' | 'Letter' = 'A4'): Promise<{ html: string; text: string; fileBase: string }> {
    this.expect('backed-up', 'confirmed');
    const sh = this.shareAt(index);
    this.step = 'print';
    const mnemonic = this.mnemonics[index];
    if (!mnemonic) throw new OperationError(`the words of ${sh.custodian}'s share are no longer in memory (printing is over)`);
    const html = await renderShareSheet({
      ceremonyId: this.plan.id,
      title: this.plan.title,
      rootLabel: this.plan.key.label,
      rootAlgorithm: this.plan.key.algorithm,
      rootFingerprint: this.rootSummary!.fingerprint,
      custodian: { id: sh.custodian, name: sh.name },
      group: sh.group,
      groupCount: this.plan.backup.groups.length,
      groupThreshold: this.plan.backup.groupThreshold,
      member: sh.member,
      memberCount: this.plan.backup.groups[sh.group - 1].custodians.length,
      memberThreshold: this.plan.backup.groups[sh.group - 1].threshold,
      mnemonic,
      checkValue: sh.checkValue,
      kekKcv: this.kekKcv!,
      wrappedRootKey: this.wrapped!,
      witnessNames: this.plan.participants.filter((p) => p.role === 'witness').map((p) => p.name),
      passphrase: this.plan.backup.passphrase,
      rehearsal: this.opts.rehearsal,
      paper,
    });
    return { html, text: renderShareText(mnemonic), fileBase: shareSheetFileBase(sh.group, sh.member, sh.custodian) };
  }

  private shareAt(index: number): CustodianShare {
    const sh = this.shares[index];
    if (!sh) throw new OperationError(`there is no share number ${index + 1} (the plan has ${this.shares.length})`);
    return sh;
  }

  /**
   * Records how a sheet went out; when every sheet has, the KEK buffer is zeroed. A production
   * ceremony takes only sheets printed on a checked queue whose spool was clean afterwards.
   */
  markPrinted(index: number, out: SheetOutput): void {
    this.expect('backed-up', 'confirmed');
    const sh = this.shareAt(index);
    this.step = 'print';
    if (!this.opts.rehearsal) {
      if (out.kind !== 'printer') throw new OperationError('a production ceremony prints share sheets on paper; files are for rehearsals only');
      if (!this.printer || this.printer.queue !== out.queue || !this.printer.checks.every((c) => c.ok))
        throw new OperationError(`printer '${out.queue}' has not passed the printer checks; a production sheet is printed only on a checked queue`);
    }
    const base = { group: sh.group, member: sh.member, custodian: sh.custodian, rehearsal: this.opts.rehearsal };
    if (out.kind === 'printer') this.record('share.printed', { ...base, output: out.queue, kind: 'printer', jobId: out.jobId, spoolClean: out.spoolClean });
    else this.record('share.printed', { ...base, output: out.file, kind: 'file' });
    if (out.kind === 'printer' && !out.spoolClean)
      this.fail('print', `printer '${out.queue}': files of job ${out.jobId} (${sh.name}'s sheet) are still in the CUPS spool after printing; remove them and check PreserveJobFiles`);
    sh.printed = true;
    if (this.shares.every((x) => x.printed) && this.kek) {
      this.wipeKek();
      this.record('backup.kek-wiped', {});
    }
    // A printed sheet is confirmed next: a stop at a custodian's prompt is a stop at 'confirm',
    // whichever custodian it is (the first one's prompt used to say 'print').
    this.step = 'confirm';
  }

  private wipeKek(): void {
    this.kek?.fill(0);
    this.kek = undefined;
  }

  /** A custodian re-enters (or scans) their share; it must match its check value. */
  confirmShare(index: number, mnemonic: string, method: 'typed' | 'scanned' | 'file'): void {
    this.expect('backed-up', 'confirmed');
    const sh = this.shareAt(index);
    this.step = 'confirm';
    if (!sh.printed) throw new OperationError(`${sh.name}'s sheet has not been printed yet`);
    const normalized = mnemonic.trim().toLowerCase().split(/\s+/).join(' ');
    if (shareCheckValue(normalized) !== sh.checkValue)
      throw new OperationError(`the words entered for ${sh.name} (group ${sh.group}, member ${sh.member}) do not match their share's check value ${sh.checkValue}; check every word and try again`);
    this.confirmed.set(index, normalized);
    sh.confirmed = true;
    this.record('share.confirmed', { group: sh.group, member: sh.member, custodian: sh.custodian, checkValue: sh.checkValue, method }, sh.custodian);
    if (this.shares.every((x) => x.confirmed)) {
      this.mnemonics = [];
      this.state = 'confirmed';
    }
  }

  /** Combines a threshold set of the confirmed shares, checks the KEK's KCV, unwraps in the token and proves it is the same key. */
  testRecovery(passphrase?: string): { ok: boolean; detail: string; shares: { group: number; member: number }[] } {
    this.expect('confirmed');
    const s = this.sess;
    this.step = 'recovery-test';
    const b = this.plan.backup;
    if (b.passphrase && !passphrase) throw new OperationError('the test recovery needs the SLIP-39 passphrase; enter it and try again', { retryable: true });
    const used: CustodianShare[] = [];
    for (let g = 1; g <= b.groups.length && used.length < Infinity; g++) {
      if (new Set(used.map((u) => u.group)).size >= b.groupThreshold) break;
      used.push(...this.shares.filter((x) => x.group === g).slice(0, b.groups[g - 1].threshold));
    }
    let kek: Uint8Array | undefined;
    let kekKcvOk = false;
    let sameKey = false;
    let detail = '';
    let failure: unknown;
    try {
      kek = combineMnemonics(used.map((u) => this.confirmed.get(u.index)!), b.passphrase ? passphrase : undefined);
      this.opts.kekProbe?.(kek, 'recovery-test');
      const kekRef = s.importAesKey(Buffer.from(kek.buffer, kek.byteOffset, kek.byteLength), `keyrite-kek-test:${this.plan.id}`, { unwrap: true, sign: true });
      try {
        kekKcvOk = s.aesKcv(kekRef) === this.kekKcv;
        if (!kekKcvOk) detail = 'the combined backup key has a different KCV (wrong passphrase?)';
        else {
          const alg = this.plan.key.algorithm as RootKey['algorithm'];
          const restored = s.unwrapKwp(kekRef, this.wrapped!, { algorithm: alg, label: `keyrite-test-recovery:${this.plan.id}`, id: s.random(8), asToken: false, publicSpki: this.root!.spki });
          try {
            if (alg === 'aes-256') {
              sameKey = s.aesKcv(restored.key) === this.root!.kcv;
              detail = sameKey ? `unwrapped key has the root's KCV ${this.root!.kcv}` : 'unwrapped key has a different KCV';
            } else {
              const scheme = rootSignatureScheme(alg)!;
              const msg = pae(DSSE_KEYCHECK_TYPE, Buffer.from(JSON.stringify({ ceremonyId: this.plan.id, purpose: 'recovery-test', nonce: s.random(16).toString('hex') })));
              sameKey = verifySignature(this.root!.spki!, msg, s.sign(restored.key, scheme, msg));
              detail = sameKey ? 'the unwrapped private key signs for the root public key' : 'the unwrapped private key does not match the root public key';
            }
          } finally {
            s.destroy(restored.key);
            if (restored.publicKey) s.destroy(restored.publicKey);
          }
        }
      } finally {
        s.destroy(kekRef);
      }
    } catch (err) {
      if (!(err instanceof KeyriteError)) throw err;
      detail = err.message;
      failure = err;
    } finally {
      kek?.fill(0);
    }
    const ok = kekKcvOk && sameKey;
    this.record('backup.recovery-tested', { shares: used.map((u) => ({ group: u.group, member: u.member })), ok, kekKcvOk, sameKey, detail });
    // A different KCV with a passphrase is most likely a mistyped passphrase: recorded, and the test
    // may be run again. A key that unwraps but is not the root is a broken backup: the ceremony stops.
    if (!kekKcvOk && b.passphrase && !failure)
      throw new OperationError('test recovery: the shares combine to a backup key with another KCV: the passphrase was probably mistyped; enter it again', { retryable: true });
    if (!ok) this.fail('recovery-test', `test recovery failed: ${detail}`, failure);
    this.confirmed.clear();
    this.state = 'recovery-tested';
    return { ok, detail, shares: used.map((u) => ({ group: u.group, member: u.member })) };
  }

  /** Wraps the root for each KMS in the plan, inside the token. */
  runExports(): EventData['export.created'][] {
    this.expect('recovery-tested');
    this.step = 'exports';
    const out: EventData['export.created'][] = [];
    for (const target of this.plan.exports) {
      const { eventData: data } = runExport(this.sess, this.root!, target, {
        files: this.loaded.files,
        bundleDir: this.bundleDir,
        rootAlgorithm: this.plan.key.algorithm as RootKey['algorithm'],
        rootLabel: this.plan.key.label,
        appVersion: APP_VERSION,
        rotation: rotationOf(this.loaded.lifecycle),
      });
      this.record('export.created', data, this.adminId());
      out.push(data);
    }
    this.state = 'exported';
    return out;
  }

  /** Seals the root if planned, writes ceremony.completed, the report and the signed envelope. */
  finish(): { bundleDir: string; chainHead: string; signers: { keyid: string; role: string }[]; root: RootSummary; statementSha256: string } {
    this.expect('exported');
    const s = this.sess;
    this.step = 'seal';
    if (this.plan.key.sealAfterExport) {
      s.setAttributes(this.root!.key, { extractable: false });
      const back = s.readAttributes(this.root!.key);
      // key.sealed records what was read back; an unreadable CKA_EXTRACTABLE is not a seal, so the
      // ceremony stops without a key.sealed event (fail closed).
      const problem = sealProblem(back, 'the root key');
      if (back.extractable !== undefined) this.record('key.sealed', { label: this.plan.key.label, id: this.rootSummary!.idHex, extractable: back.extractable });
      if (problem) this.fail('seal', problem);
    }
    this.step = 'signing';
    // The signer must still answer before the transcript is closed: a token lost here is recorded
    // as an abort, not left as a 'completed' transcript that can never be signed.
    s.sign(this.signer!.key, signerSchemeOf(this.signer!.spki), pae(DSSE_KEYCHECK_TYPE, Buffer.from(JSON.stringify({ ceremonyId: this.plan.id, purpose: 'signer-check', nonce: s.random(16).toString('hex') }))));
    const w = this.writer!;
    this.record('ceremony.completed', { chainHead: w.head, eventCount: w.count });
    w.close();
    writeNewFile(path.join(this.bundleDir, 'report.html'), renderReport(this.events, { plan: this.plan }));

    const signers: EnvelopeSigner[] = [
      { role: 'ceremony', spki: this.signer!.spki, sign: (msg) => s.sign(this.signer!.key, signerSchemeOf(this.signer!.spki), msg) },
    ];
    const scheme = rootSignatureScheme(this.plan.key.algorithm as RootKey['algorithm']);
    if (scheme && this.root!.spki) signers.push({ role: 'root', spki: this.root!.spki, sign: (msg) => s.sign(this.root!.key, scheme, msg) });
    const statement = buildStatement({
      bundleDir: this.bundleDir,
      predicateType: 'urn:keyrite:ceremony:v1',
      predicate: ceremonyPredicate({ ceremonyId: this.plan.id, title: this.plan.title, chainHead: w.head, eventCount: w.count, root: this.rootSummary!, signers }),
    });
    const envelopeFile = path.join(this.bundleDir, 'transcript.dsse.json');
    signEnvelope(envelopeFile, statement, signers);
    this.state = 'completed';
    try {
      // One-time signer (SPEC §3): the envelope on disk is checked, then the signer is destroyed.
      checkWrittenEnvelope(envelopeFile, statement);
      this.step = 'signer-destroyed';
      destroyOneTimeSigner(s, { label: this.signer!.key.label, idHex: this.signer!.key.idHex }, `ceremony '${this.plan.id}'`);
    } finally {
      this.closeSession();
    }
    return {
      bundleDir: this.bundleDir,
      chainHead: w.head,
      signers: signers.map((x) => ({ keyid: keyidOf(x.spki), role: x.role })),
      root: this.rootSummary!,
      statementSha256: sha256Hex(statementPayload(statement)),
    };
  }

  private fail(step: string, message: string, cause?: unknown): never {
    this.step = step;
    const err = new OperationError(message, { cause });
    this.abort(message, err);
    throw err;
  }

  /** Stops the ceremony: records why and where, wipes what is in memory, closes the session. */
  abort(reason: string, error?: unknown): void {
    if (this.state === 'completed' || this.state === 'aborted') return;
    if (this.writer && !this.writer.closed) {
      const data: EventData['ceremony.aborted'] = { reason, step: this.step };
      if (error instanceof KeyriteError) data.error = error.message;
      // What the people in the room do next: recorded, and added to the message the front end shows.
      const advice = stopAdvice(error, { bundleDir: this.bundleDir, tokenLabel: this.token?.label, keysAnnounced: this.written.some((e) => e.type === 'key.generating'), bundleExists: true });
      data.advice = advice;
      this.record('ceremony.aborted', data);
      this.writer.close();
      addAdvice(error, advice);
    }
    this.state = 'aborted';
    this.closeSession();
  }

  private closeSession(): void {
    this.wipeKek();
    this.mnemonics = [];
    this.confirmed.clear();
    endSession(this.session);
    this.session = undefined;
  }

  /** Releases the module. Safe to call more than once. */
  close(): void {
    if (this.state !== 'completed' && this.state !== 'aborted' && this.writer) this.abort('the ceremony was closed before it completed');
    this.closeSession();
    try {
      this.module?.close();
    } catch {
      /* already closed */
    }
    this.module = undefined;
  }
}


