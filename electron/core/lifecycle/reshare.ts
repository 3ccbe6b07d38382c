/**
 * A re-share (docs/lifecycle.md, docs/lifecycle.md): the key stays, its backup changes hands. In order:
 *   1. a threshold of the current custodians' shares combine to the old backup key, whose KCV must
 *      be the one its backup.split recorded (checked in software before the token is changed);
 *   2. the old backup key becomes a session object, and the root is unwrapped from the current
 *      backup/root.wrapped INSIDE the token as a session object, and shown to be the root;
 *   3. a new backup key from the token's RNG is split for the new layout, the root is wrapped under it
 *      into this bundle's backup/root.wrapped; every session object is destroyed, every key buffer zeroed;
 *   4. the new sheets are printed on a checked CUPS queue (production; written as files only in a
 *      rehearsal), each confirmed before the next, and test-recovered, as at generation;
 *   5. the old wrapped blob is listed as retired (backup.retired): the old shares still open every
 *      copy of it, which is why the old sheets must be destroyed;
 *   6. ceremony.completed, and the statement signed by a one-time signer, destroyed right after, and,
 *      when the root can sign (not AES), by the unwrapped root itself: the one-time signer is made
 *      during the re-share, so only the root (which existed before it) shows who made the bundle.
 *      The root's session object is kept from step 2 until then, and destroyed right after signing.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OperationError, UsageError } from '../errors.ts';
import { endSession, exactSelector, openModule, selectOn } from '../hsm/index.ts';
import type { HsmModule, HsmSession, KeyRef, RootAlgorithm, TokenInfo } from '../hsm/types.ts';
import { combineMnemonics, shareCheckValue, splitSecret } from '../shares/index.ts';
import { renderShareSheet, renderShareSheetSync, renderShareText, shareSheetFileBase, type ShareSheetData } from '../sheets/index.ts';
import { reshareNotice } from '../sheets/share-sheet.ts';
import type { PrinterCheckResult } from '../printing/checks.ts';
import { TranscriptWriter } from '../transcript/writer.ts';
import { buildStatement, CEREMONY_PREDICATE_TYPE, keyidOf, pae, signEnvelope, signerEntry, TRANSCRIPT_FILE, verifySignature, type EnvelopeSigner, type KeyritePredicate } from '../transcript/dsse.ts';
import type { EventData, EventType, TranscriptEvent } from '../transcript/events.ts';
import { makeNewDir, sha256Hex, toPem, writeNewFile } from '../util/files.ts';
import { APP_NAME, APP_VERSION } from '../version.ts';
import { runningCode } from '../code.ts';
import { hostRecord } from '../ceremony/host.ts';
import { rootSignatureScheme, SIGNER_SCHEME } from '../ceremony/key-checks.ts';
import { aesKcvSoftware } from '../ceremony/recovery-kcv.ts';
import { rootDescription } from '../ceremony/statement.ts';
import { loadResharePlan, type LoadedResharePlan } from './reshare-plan.ts';

const KEYCHECK_TYPE = 'application/vnd.keyrite.key-check+json';

export interface NewShare {
  index: number;
  group: number;
  member: number;
  custodian: string;
  checkValue: string;
  confirmed: boolean;
}

export interface ReshareOptions {
  outDir: string;
  rehearsal: boolean;
  moduleArgs?: string;
  /** "cli" (default) or "desktop", recorded in ceremony.started. */
  frontEnd?: string;
  /** Each event as it is written (the app's live transcript). */
  onEvent?: (ev: TranscriptEvent) => void;
}

export class ReshareCeremony {
  readonly bundleDir: string;
  private module?: HsmModule;
  private session?: HsmSession;
  private token?: TokenInfo;
  private selectedBy?: 'label' | 'label+serial' | 'label+serial+slot';
  private writer?: TranscriptWriter;
  private written: TranscriptEvent[] = [];
  private oldKek?: Uint8Array;
  private newWrapped?: Buffer;
  private newKekKcv?: string;
  private mnemonics: string[] = [];
  private shares: NewShare[] = [];
  private confirmed = new Map<number, string>();
  private printer?: EventData['printer.checked'];
  /** The unwrapped root (session objects), kept to sign the statement when the root can sign. */
  private rootRefs: KeyRef[] = [];

  private constructor(readonly loaded: LoadedResharePlan, private readonly opts: ReshareOptions) {
    this.bundleDir = path.resolve(opts.outDir, loaded.plan.id);
  }

  static load(planFile: string, opts: ReshareOptions): ReshareCeremony {
    const c = new ReshareCeremony(loadResharePlan(planFile), opts);
    if (existsSync(c.bundleDir)) throw new OperationError(`output folder ${c.bundleDir} already exists; a ceremony never overwrites a bundle`);
    const fromPlan = c.loaded.plan.hsm.initArgs;
    if (fromPlan !== undefined && opts.moduleArgs !== undefined && fromPlan !== opts.moduleArgs)
      throw new UsageError("--module-args differs from the plan's hsm.initArgs; the reviewed plan decides: drop --module-args or fix the plan");
    return c;
  }

  get newShares(): NewShare[] {
    return this.shares.map((s) => ({ ...s }));
  }

  private record<T extends EventType>(type: T, data: EventData[T], actor = 'system'): void {
    const ev = this.writer!.append<T>(type, actor, data as never) as TranscriptEvent;
    this.written.push(ev);
    this.opts.onEvent?.(ev);
  }

  private get admin(): string {
    return this.loaded.plan.participants.find((p) => p.role === 'administrator')!.id;
  }

  private get alg(): RootAlgorithm {
    return this.loaded.source.key.algorithm as RootAlgorithm;
  }

  /** Step 1, before any token is touched: the old shares must combine to the old backup key (its KCV). */
  enterOldShares(mnemonics: string[], passphrase?: string): void {
    const split = this.loaded.source.split;
    const known = new Map(split.shares.map((s) => [s.checkValue, s]));
    for (const [i, m] of mnemonics.entries())
      if (!known.has(shareCheckValue(m.trim().toLowerCase().split(/\s+/).join(' '))))
        throw new OperationError(`old share ${i + 1} is not one of the shares of set ${split.identifier} (version ${this.loaded.source.version}, bundle ${this.loaded.source.backupBundle.ceremonyId})`);
    const kek = combineMnemonics(mnemonics, split.passphrase ? passphrase : undefined);
    if (aesKcvSoftware(kek) !== split.kekKcv) {
      kek.fill(0);
      throw new OperationError(`the old shares combine to a backup key whose KCV is not ${split.kekKcv}${split.passphrase ? ' (wrong passphrase?)' : ''}`);
    }
    this.oldKek = kek;
    this.oldShares = mnemonics.map((m) => known.get(shareCheckValue(m.trim().toLowerCase().split(/\s+/).join(' ')))!);
  }
  private oldShares: EventData['backup.split']['shares'] = [];

  open(pin: string): TokenInfo {
    const h = this.loaded.plan.hsm;
    this.module = openModule(path.isAbsolute(h.module) ? h.module : path.resolve(this.loaded.dir, h.module), { initArgs: h.initArgs ?? this.opts.moduleArgs });
    const picked = selectOn(this.module, { label: h.tokenLabel, serial: h.tokenSerial, slotId: h.slot === undefined ? undefined : String(h.slot) });
    this.token = picked.token;
    this.selectedBy = picked.selectedBy;
    this.session = this.module.login(exactSelector(this.token), pin);
    return this.token;
  }

  begin(checkInAll = true): void {
    const plan = this.loaded.plan;
    const m = this.module!.info;
    const t = this.token!;
    makeNewDir(this.bundleDir);
    writeNewFile(path.join(this.bundleDir, 'plan.json'), this.loaded.bytes);
    this.writer = TranscriptWriter.create(path.join(this.bundleDir, TRANSCRIPT_FILE));
    this.record('ceremony.started', {
      ceremonyId: plan.id, title: plan.title, planSha256: this.loaded.sha256,
      app: { name: APP_NAME, version: APP_VERSION, code: runningCode() }, host: hostRecord(), frontEnd: this.opts.frontEnd ?? 'cli', rehearsal: this.opts.rehearsal,
      participants: plan.participants.map((p) => ({ id: p.id, name: p.name, role: p.role })),
      ...this.loaded.lifecycle,
    });
    this.record('hsm.selected', {
      module: { path: m.path, sha256: m.sha256, manufacturer: m.manufacturer, library: m.library, libraryVersion: m.libraryVersion, cryptokiVersion: m.cryptokiVersion, ...(m.initArgs !== undefined ? { initArgs: m.initArgs } : {}) },
      token: { label: t.label, manufacturer: t.manufacturer, model: t.model, serialNumber: t.serialNumber, firmware: t.firmware, flags: t.flags, slotId: t.slotId, selectedBy: this.selectedBy ?? 'label' },
      mechanisms: [],
    });
    this.record('hsm.logged-in', { tokenLabel: t.label, tokenSerial: t.serialNumber });
    if (this.printer) this.record('printer.checked', this.printer);
    // A rehearsal with --ack-all takes every check-in as given; at a terminal each is typed (checkIn).
    if (checkInAll) for (const p of plan.participants) this.record('participant.checked-in', { participant: p.id, role: p.role }, p.id);
  }

  /** The CUPS queue's checks (before any key is made); recorded once the transcript exists. */
  recordPrinterCheck(r: PrinterCheckResult): void {
    this.printer = { queue: r.queue, deviceUri: r.deviceUri, checks: r.checks.map((c) => ({ name: c.name, ok: c.ok, detail: c.detail })) };
    if (this.writer && !this.writer.closed) this.record('printer.checked', this.printer);
  }

  checkIn(participantId: string): void {
    const p = this.loaded.plan.participants.find((x) => x.id === participantId);
    if (!p) throw new OperationError(`'${participantId}' is not a participant of this plan`);
    this.record('participant.checked-in', { participant: p.id, role: p.role }, p.id);
  }

  /** A note, or an exception (a deviation from the plan: an absent participant, a live network). */
  addNote(text: string, actor: string, kind: 'note' | 'exception' = 'note', step?: string): void {
    if (kind === 'note') this.record('note.added', { text }, actor);
    else this.record('exception.recorded', { text, ...(step ? { step } : {}) }, actor);
  }

  acknowledge(stepId: string, method: 'prompt' | 'app' | 'ack-all'): void {
    const s = this.loaded.plan.steps.find((x) => x.id === stepId);
    if (!s) throw new OperationError(`'${stepId}' is not a step of this plan`);
    this.record('step.acknowledged', { step: s.id, text: s.text, by: s.ackBy, method }, s.ackBy[0]);
  }

  /** Shows that `key` is the root: same KCV (AES), or a signature the root public key verifies. */
  private isRoot(s: HsmSession, key: KeyRef): boolean {
    const k = this.loaded.source.key;
    if (this.alg === 'aes-256') return s.aesKcv(key) === k.kcv;
    const scheme = rootSignatureScheme(this.alg)!;
    const msg = pae(KEYCHECK_TYPE, Buffer.from(JSON.stringify({ ceremonyId: this.loaded.plan.id, purpose: 'reshare-check', nonce: s.random(16).toString('hex') })));
    return verifySignature(Buffer.from(k.publicKey!.spki, 'base64'), msg, s.sign(key, scheme, msg));
  }

  /** Steps 2, 3 and 5: the root re-wrapped inside the token under a new backup key, split for the new layout. */
  rewrap(): NewShare[] {
    const s = this.session!;
    const src = this.loaded.source;
    const plan = this.loaded.plan;
    const oldFile = path.join(src.backupBundle.dir, 'backup', 'root.wrapped');
    const oldWrapped = readFileSync(oldFile);
    if (sha256Hex(oldWrapped) !== src.wrappedSha256) throw new OperationError(`${oldFile} does not match the sha256 its bundle recorded`);
    this.record('reshare.old-shares-verified', {
      version: src.version, ceremonyId: src.backupBundle.ceremonyId, identifier: src.split.identifier, kekKcv: src.split.kekKcv,
      shares: this.oldShares.map((x) => ({ group: x.group, member: x.member, custodian: x.custodian, checkValue: x.checkValue })),
    }, this.admin);
    const kek = this.oldKek!;
    const refs: KeyRef[] = [];
    try {
      const oldRef = s.importAesKey(Buffer.from(kek.buffer, kek.byteOffset, kek.byteLength), `keyrite-kek:${plan.id}`, { unwrap: true, sign: true });
      refs.push(oldRef);
      const k = src.key;
      const root = s.unwrapKwp(oldRef, oldWrapped, { algorithm: this.alg, label: `keyrite-reshare:${plan.id}`, id: s.random(8), asToken: false, publicSpki: k.publicKey ? Buffer.from(k.publicKey.spki, 'base64') : undefined });
      refs.push(root.key);
      if (root.publicKey) refs.push(root.publicKey);
      if (!this.isRoot(s, root.key)) throw new OperationError(`the key unwrapped from ${src.backupBundle.ceremonyId}'s backup/root.wrapped is not version ${src.version}'s root`);
      // An asymmetric root signs the statement in finish(): keep its session object until then.
      if (rootSignatureScheme(this.alg)) this.rootRefs = refs.splice(1);

      const newKek = s.random(32);
      const b = plan.backup;
      const split = splitSecret(newKek, { groupThreshold: b.groupThreshold, groups: b.groups.map((g) => ({ threshold: g.threshold, count: g.custodians.length })), iterationExponent: b.iterationExponent, extendable: b.extendable });
      const newRef = s.importAesKey(newKek, `keyrite-kek-new:${plan.id}`, { wrap: true, sign: true });
      refs.push(newRef);
      this.newKekKcv = s.aesKcv(newRef);
      const order = b.groups.flatMap((g, gi) => g.custodians.map((c, ci) => ({ group: gi + 1, member: ci + 1, custodian: c })));
      this.mnemonics = order.map((o) => split.groups[o.group - 1].mnemonics[o.member - 1]);
      this.shares = order.map((o, index) => ({ index, ...o, checkValue: shareCheckValue(this.mnemonics[index]), confirmed: false }));
      newKek.fill(0);
      this.record('backup.split', {
        scheme: 'slip39', identifier: split.identifier, extendable: split.extendable, iterationExponent: split.iterationExponent, groupThreshold: split.groupThreshold,
        groups: split.groups.map((g) => ({ threshold: g.threshold, count: g.count })), kekKcv: this.newKekKcv, passphrase: false,
        shares: this.shares.map((x) => ({ group: x.group, member: x.member, custodian: x.custodian, checkValue: x.checkValue })),
      });
      const { wrapped, info } = s.wrapKwp(newRef, root.key);
      this.newWrapped = wrapped;
      writeNewFile(path.join(this.bundleDir, 'backup', 'root.wrapped'), wrapped);
      this.record('backup.wrapped', { mechanism: info.mechanism, mechanismType: `0x${info.mechanismType.toString(16).padStart(8, '0')}`, zeroPadsInput: info.zeroPadsInput, wrapped: wrapped.toString('base64'), sha256: sha256Hex(wrapped), path: 'backup/root.wrapped' });
      this.record('backup.retired', {
        ceremonyId: src.backupBundle.ceremonyId, path: 'backup/root.wrapped', sha256: src.wrappedSha256, identifier: src.split.identifier,
        custodians: [...new Set(src.split.shares.map((x) => x.custodian))],
        warning: `the old shares (set ${src.split.identifier}) still open every copy of ${src.backupBundle.ceremonyId}'s backup/root.wrapped: destroy those copies and the old sheets`,
      });
    } finally {
      for (const r of refs.reverse()) s.destroy(r);
      kek.fill(0);
      this.oldKek = undefined;
    }
    return this.newShares;
  }

  private sheetData(index: number): ShareSheetData {
    const plan = this.loaded.plan;
    const k = this.loaded.source.key;
    const sh = this.shares[index];
    const mnemonic = this.mnemonics[index];
    if (!sh || !mnemonic) throw new OperationError(`the words of share ${index + 1} are not in memory (printing is over, or the root was not re-wrapped)`);
    const g = plan.backup.groups[sh.group - 1];
    return {
      ceremonyId: plan.id, title: plan.title, rootLabel: k.label, rootAlgorithm: k.algorithm, rootFingerprint: k.publicKey?.sha256 ?? `KCV ${k.kcv}`,
      custodian: { id: sh.custodian, name: plan.participants.find((p) => p.id === sh.custodian)!.name }, group: sh.group, groupCount: plan.backup.groups.length,
      groupThreshold: plan.backup.groupThreshold, member: sh.member, memberCount: g.custodians.length, memberThreshold: g.threshold,
      mnemonic, checkValue: sh.checkValue, kekKcv: this.newKekKcv!, wrappedRootKey: this.newWrapped!,
      witnessNames: plan.participants.filter((p) => p.role === 'witness').map((p) => p.name), rehearsal: this.opts.rehearsal,
      notice: reshareNotice(this.loaded.source.backupBundle.ceremonyId, this.loaded.source.split.identifier),
      // As at generation (engine.shareSheet's default): the page is A4, which the largest sheet fits with the notice.
      paper: 'A4',
    };
  }

  /** Step 4: one new sheet's HTML, rendered in memory (it holds the words: it goes to the printer, not to disk). */
  async shareSheet(index: number): Promise<string> {
    return renderShareSheet(this.sheetData(index));
  }

  /** Step 4 (production): the sheet went to a checked queue and CUPS kept none of its files. */
  markPrinted(index: number, job: { queue: string; jobId: number; spoolClean: boolean }): void {
    const sh = this.shares[index];
    if (!this.printer || this.printer.queue !== job.queue || !this.printer.checks.every((c) => c.ok))
      throw new OperationError(`printer '${job.queue}' has not passed the printer checks; a sheet is printed only on a checked queue`);
    this.record('share.printed', { group: sh.group, member: sh.member, custodian: sh.custodian, output: job.queue, rehearsal: this.opts.rehearsal, kind: 'printer', jobId: job.jobId, spoolClean: job.spoolClean });
    if (!job.spoolClean) throw new OperationError(`printer '${job.queue}': files of job ${job.jobId} (${sh.custodian}'s sheet) are still in the CUPS spool after printing; remove them and check PreserveJobFiles`);
  }

  /** Step 4 (rehearsal): one new sheet written to `dir` (its words are on it), then recorded as printed; returns the .txt. */
  writeSheet(index: number, dir: string): string {
    if (!this.opts.rehearsal) throw new OperationError('sheets are written to files only in a rehearsal');
    const sh = this.shares[index];
    const base = path.join(dir, shareSheetFileBase(sh.group, sh.member, sh.custodian));
    writeFileSync(`${base}.txt`, renderShareText(this.mnemonics[index]), { flag: 'wx', mode: 0o600 });
    writeFileSync(`${base}.html`, renderShareSheetSync(this.sheetData(index)), { flag: 'wx', mode: 0o600 });
    this.record('share.printed', { group: sh.group, member: sh.member, custodian: sh.custodian, output: path.basename(`${base}.html`), rehearsal: true, kind: 'file' });
    return `${base}.txt`;
  }

  writeSheets(dir: string): string[] {
    return this.shares.map((sh) => this.writeSheet(sh.index, dir));
  }

  confirmShare(index: number, mnemonic: string, method: 'typed' | 'file'): void {
    const sh = this.shares[index];
    const normalized = mnemonic.trim().toLowerCase().split(/\s+/).join(' ');
    if (shareCheckValue(normalized) !== sh.checkValue) throw new OperationError(`the words entered for ${sh.custodian} (group ${sh.group}, member ${sh.member}) do not match their share's check value ${sh.checkValue}`);
    this.confirmed.set(index, normalized);
    sh.confirmed = true;
    this.record('share.confirmed', { group: sh.group, member: sh.member, custodian: sh.custodian, checkValue: sh.checkValue, method }, sh.custodian);
    if (this.shares.every((x) => x.confirmed)) this.mnemonics = [];
  }

  /** A threshold set of the new shares opens the new root.wrapped in the token, and it is the root. */
  testRecovery(): void {
    const s = this.session!;
    const b = this.loaded.plan.backup;
    const used: NewShare[] = [];
    for (let g = 1; g <= b.groups.length && new Set(used.map((u) => u.group)).size < b.groupThreshold; g++) used.push(...this.shares.filter((x) => x.group === g).slice(0, b.groups[g - 1].threshold));
    const kek = combineMnemonics(used.map((u) => this.confirmed.get(u.index)!));
    const refs: KeyRef[] = [];
    let kekKcvOk = false;
    let sameKey = false;
    try {
      const ref = s.importAesKey(Buffer.from(kek.buffer, kek.byteOffset, kek.byteLength), `keyrite-kek-test:${this.loaded.plan.id}`, { unwrap: true, sign: true });
      refs.push(ref);
      kekKcvOk = s.aesKcv(ref) === this.newKekKcv;
      const k = this.loaded.source.key;
      const root = s.unwrapKwp(ref, this.newWrapped!, { algorithm: this.alg, label: `keyrite-test-recovery:${this.loaded.plan.id}`, id: s.random(8), asToken: false, publicSpki: k.publicKey ? Buffer.from(k.publicKey.spki, 'base64') : undefined });
      refs.push(root.key);
      if (root.publicKey) refs.push(root.publicKey);
      sameKey = this.isRoot(s, root.key);
    } finally {
      for (const r of refs.reverse()) s.destroy(r);
      kek.fill(0);
    }
    const ok = kekKcvOk && sameKey;
    this.record('backup.recovery-tested', { shares: used.map((u) => ({ group: u.group, member: u.member })), ok, kekKcvOk, sameKey, detail: ok ? 'the new shares open the new root.wrapped, and it is the root' : 'the new shares do not recover the root' });
    this.confirmed.clear();
    if (!ok) throw new OperationError('test recovery of the new shares failed');
  }

  /** The holders of the retired set, after the new backup is tested: each acknowledges destroying their old sheet. */
  get oldCustodians(): string[] {
    return [...new Set(this.loaded.source.split.shares.map((x) => x.custodian))];
  }

  oldSheetDestroyed(custodian: string, method: 'prompt' | 'app' | 'ack-all'): void {
    const src = this.loaded.source;
    const shares = src.split.shares.filter((x) => x.custodian === custodian);
    if (!shares.length) throw new OperationError(`'${custodian}' held no share of the retired set`);
    if (!this.written.some((e) => e.type === 'backup.recovery-tested' && (e.data as { ok: boolean }).ok))
      throw new OperationError('old sheets are destroyed only once the new shares are tested');
    this.record('sheet.destroyed', { custodian, shares: shares.map((x) => ({ version: src.version, ceremonyId: src.backupBundle.ceremonyId, group: x.group, member: x.member, checkValue: x.checkValue })), method }, custodian);
  }

  finish(): { bundleDir: string } {
    const s = this.session!;
    const w = this.writer!;
    const plan = this.loaded.plan;
    const label = `keyrite-signer:${plan.id}`;
    const signerId = s.random(16);
    this.record('key.generating', { role: 'signer', label, id: signerId.toString('hex'), algorithm: 'ec-p384' });
    const signer = s.generateSignerKey(label, signerId);
    const spki = s.publicKeySpki(signer.publicKey ?? signer.key);
    writeNewFile(path.join(this.bundleDir, 'keys', `${keyidOf(spki)}.pub.pem`), toPem(spki));
    this.record('signer.generated', { role: 'ceremony', label, id: signerId.toString('hex'), keyid: keyidOf(spki), spki: spki.toString('base64'), attributes: { ...s.readAttributes(signer.key) } });
    this.record('ceremony.completed', { chainHead: w.head, eventCount: w.count });
    w.close();
    const k = this.loaded.source.key;
    const signers: EnvelopeSigner[] = [{ role: 'ceremony', spki, sign: (msg) => s.sign(signer.key, SIGNER_SCHEME, msg) }];
    const rootScheme = rootSignatureScheme(this.alg);
    const rootRef = this.rootRefs[0];
    if (rootScheme) {
      if (!rootRef) throw new OperationError(`the unwrapped root of version ${this.loaded.source.version} is no longer in the session; the statement cannot be signed by the root`);
      const rootSpki = Buffer.from(k.publicKey!.spki, 'base64');
      writeNewFile(path.join(this.bundleDir, 'keys', `${keyidOf(rootSpki)}.pub.pem`), toPem(rootSpki));
      signers.push({ role: 'root', spki: rootSpki, sign: (msg) => s.sign(rootRef, rootScheme, msg) });
    }
    const predicate = {
      ceremonyId: plan.id, title: plan.title, chainHead: w.head, eventCount: w.count,
      root: rootDescription({ algorithm: k.algorithm, label: k.label, ...(k.kcv ? { kcv: k.kcv } : { publicKeySha256: k.publicKey!.sha256 }) }),
      signers: signers.map((x) => signerEntry(x.role, x.spki)),
      ceremonySigner: { keyid: keyidOf(spki), oneTime: true },
    } as KeyritePredicate;
    signEnvelope(path.join(this.bundleDir, 'transcript.dsse.json'), buildStatement({ bundleDir: this.bundleDir, predicateType: CEREMONY_PREDICATE_TYPE, predicate }), signers);
    s.destroyObjects({ label });
    this.destroyRoot();
    this.close();
    return { bundleDir: this.bundleDir };
  }

  abort(reason: string): void {
    if (this.writer && !this.writer.closed) {
      this.record('ceremony.aborted', { reason, step: 'reshare' });
      this.writer.close();
    }
  }

  private destroyRoot(): void {
    for (const r of this.rootRefs.reverse()) {
      try {
        this.session?.destroy(r);
      } catch {
        /* a session object; it goes with the session anyway */
      }
    }
    this.rootRefs = [];
  }

  close(): void {
    this.destroyRoot();
    this.oldKek?.fill(0);
    this.oldKek = undefined;
    this.mnemonics = [];
    this.confirmed.clear();
    endSession(this.session);
    this.session = undefined;
    try {
      this.module?.close();
    } catch {
      /* already closed */
    }
    this.module = undefined;
  }
}
