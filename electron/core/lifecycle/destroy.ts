/**
 * A destroy ceremony (docs/lifecycle.md, docs/lifecycle.md). In order, each step on the record before the next:
 *   1. the plan and the lineage behind it are checked (destroy-plan.ts); the module is opened, the
 *      token found, the PIN given; the bundle and its transcript are begun (kind "destroy", the link);
 *   2. the plan's steps are acknowledged, and each custodian of a destroyed version acknowledges
 *      destroying their sheet(s) (sheet.destroyed);
 *   3. for each version, every object with its label and CKA_ID is destroyed on the token, then a
 *      find must return nothing (version.destroyed, remaining 0); copies this token holds from
 *      recoveries and the ceremonies' leftovers (signer, backup-key and test-recovery labels) go too;
 *   4. the certificate of destruction names what is gone and where a copy may still exist (KMS
 *      exports, other tokens, recoveries elsewhere, the wrapped backups in the old bundles);
 *   5. ceremony.completed, then a statement of type urn:keyrite:destruction:v1 signed by a one-time
 *      signer made on the token for this ceremony and destroyed right after.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { KeyriteError, OperationError, UsageError } from '../errors.ts';
import { endSession, exactSelector, openModule, selectOn } from '../hsm/index.ts';
import type { HsmModule, HsmSession, TokenInfo } from '../hsm/types.ts';
import { TranscriptWriter } from '../transcript/writer.ts';
import { buildStatement, keyidOf, RECOVERIES_DIR, signEnvelope, signerEntry, TRANSCRIPT_FILE, type EnvelopeSigner, type KeyritePredicate } from '../transcript/dsse.ts';
import type { EventData, EventType, TranscriptEvent } from '../transcript/events.ts';
import { readTranscript } from '../transcript/read.ts';
import { makeNewDir, toPem, writeNewFile } from '../util/files.ts';
import { APP_NAME, APP_VERSION } from '../version.ts';
import { runningCode } from '../code.ts';
import { hostRecord } from '../ceremony/host.ts';
import { SIGNER_SCHEME } from '../ceremony/key-checks.ts';
import { rootDescription } from '../ceremony/statement.ts';
import { DESTRUCTION_PREDICATE_TYPE } from './verify-lifecycle.ts';
import { loadDestroyPlan, type DestroyTarget, type LoadedDestroyPlan } from './destroy-plan.ts';

export { DESTRUCTION_PREDICATE_TYPE };

/** Labels a ceremony may leave on its token besides the root: its signer and the backup-key objects. */
export function leftoverLabels(ceremonyId: string): string[] {
  return [`keyrite-signer:${ceremonyId}`, `keyrite-kek:${ceremonyId}`, `keyrite-kek-test:${ceremonyId}`, `keyrite-test-recovery:${ceremonyId}`];
}

export interface DestroyOptions {
  outDir: string;
  rehearsal: boolean;
  frontEnd: 'cli' | 'desktop';
  /** --module-args: C_Initialize parameters; the plan's hsm.initArgs decides when both are given. */
  moduleArgs?: string;
  onEvent?: (ev: TranscriptEvent) => void;
}

/** A custodian's shares of the destroyed versions (public facts only). */
export interface SheetToDestroy {
  custodian: string;
  shares: EventData['sheet.destroyed']['shares'];
}

export class DestroyCeremony {
  readonly bundleDir: string;
  private module?: HsmModule;
  private session?: HsmSession;
  private token?: TokenInfo;
  private selectedBy?: 'label' | 'label+serial' | 'label+serial+slot';
  private writer?: TranscriptWriter;
  private written: TranscriptEvent[] = [];
  private destroyedVersions: EventData['version.destroyed'][] = [];

  private constructor(readonly loaded: LoadedDestroyPlan, private readonly opts: DestroyOptions) {
    this.bundleDir = path.resolve(opts.outDir, loaded.plan.id);
  }

  static load(planFile: string, opts: DestroyOptions): DestroyCeremony {
    const c = new DestroyCeremony(loadDestroyPlan(planFile), opts);
    const fromPlan = c.loaded.plan.hsm.initArgs;
    if (fromPlan !== undefined && opts.moduleArgs !== undefined && fromPlan !== opts.moduleArgs)
      throw new UsageError("--module-args differs from the plan's hsm.initArgs; the reviewed plan decides: drop --module-args or fix the plan");
    if (existsSync(c.bundleDir)) throw new OperationError(`output folder ${c.bundleDir} already exists; a ceremony never overwrites a bundle`);
    return c;
  }

  get targets(): DestroyTarget[] {
    return this.loaded.targets;
  }

  get events(): TranscriptEvent[] {
    return this.written;
  }

  /** The sheets to be destroyed, per custodian of the destroyed versions. */
  get sheets(): SheetToDestroy[] {
    const by = new Map<string, SheetToDestroy['shares']>();
    for (const t of this.targets) {
      // The version's current shares: of its latest re-share, else of its generating ceremony.
      const current = t.backups[0] ?? t.bundle;
      const split = current.events.find((e) => e.type === 'backup.split')?.data as EventData['backup.split'] | undefined;
      for (const s of split?.shares ?? [])
        by.set(s.custodian, [...(by.get(s.custodian) ?? []), { version: t.version, ceremonyId: current.ceremonyId, group: s.group, member: s.member, checkValue: s.checkValue }]);
    }
    return [...by].map(([custodian, shares]) => ({ custodian, shares }));
  }

  private record<T extends EventType>(type: T, data: EventData[T], actor = 'system'): void {
    const ev = this.writer!.append<T>(type, actor, data as never) as TranscriptEvent;
    this.written.push(ev);
    this.opts.onEvent?.(ev);
  }

  /** A note, or an exception (a deviation from the plan: a live network), as ReshareCeremony's. */
  addNote(text: string, actor: string, kind: 'note' | 'exception' = 'note', step?: string): void {
    if (kind === 'note') this.record('note.added', { text }, actor);
    else this.record('exception.recorded', { text, ...(step ? { step } : {}) }, actor);
  }

  private get admin(): string {
    return this.loaded.plan.participants.find((p) => p.role === 'administrator')!.id;
  }

  /** Opens the module, finds the token, logs in. Nothing is written yet. */
  open(pin: string): TokenInfo {
    const plan = this.loaded.plan;
    const h = plan.hsm;
    this.module = openModule(path.isAbsolute(h.module) ? h.module : path.resolve(this.loaded.dir, h.module), { initArgs: h.initArgs ?? this.opts.moduleArgs });
    // The same token choice as a ceremony's (label, narrowed by serial, then slot), recorded the same way.
    const picked = selectOn(this.module, { label: h.tokenLabel, serial: h.tokenSerial, slotId: h.slot === undefined ? undefined : String(h.slot) });
    this.token = picked.token;
    this.selectedBy = picked.selectedBy;
    this.session = this.module.login(exactSelector(this.token), pin);
    return this.token;
  }

  /** The bundle folder, plan.json byte for byte, the transcript's first events. */
  begin(): void {
    const plan = this.loaded.plan;
    const m = this.module!.info;
    const t = this.token!;
    makeNewDir(this.bundleDir);
    writeNewFile(path.join(this.bundleDir, 'plan.json'), this.loaded.bytes);
    this.writer = TranscriptWriter.create(path.join(this.bundleDir, TRANSCRIPT_FILE));
    this.record('ceremony.started', {
      ceremonyId: plan.id,
      title: plan.title,
      planSha256: this.loaded.sha256,
      app: { name: APP_NAME, version: APP_VERSION, code: runningCode() },
      host: hostRecord(),
      frontEnd: this.opts.frontEnd,
      rehearsal: this.opts.rehearsal,
      participants: plan.participants.map((p) => ({ id: p.id, name: p.name, role: p.role })),
      ...this.loaded.lifecycle,
    });
    this.record('hsm.selected', {
      module: { path: m.path, sha256: m.sha256, manufacturer: m.manufacturer, library: m.library, libraryVersion: m.libraryVersion, cryptokiVersion: m.cryptokiVersion, ...(m.initArgs !== undefined ? { initArgs: m.initArgs } : {}) },
      token: { label: t.label, manufacturer: t.manufacturer, model: t.model, serialNumber: t.serialNumber, firmware: t.firmware, flags: t.flags, slotId: t.slotId, selectedBy: this.selectedBy ?? 'label' },
      mechanisms: [],
    });
    this.record('hsm.logged-in', { tokenLabel: t.label, tokenSerial: t.serialNumber });
  }

  checkIn(participantId: string): void {
    const p = this.loaded.plan.participants.find((x) => x.id === participantId);
    if (!p) throw new OperationError(`'${participantId}' is not a participant of this plan`);
    this.record('participant.checked-in', { participant: p.id, role: p.role }, p.id);
  }

  acknowledge(stepId: string, method: 'prompt' | 'app' | 'ack-all'): void {
    const s = this.loaded.plan.steps.find((x) => x.id === stepId);
    if (!s) throw new OperationError(`'${stepId}' is not a step of this plan`);
    this.record('step.acknowledged', { step: s.id, text: s.text, by: s.ackBy, method }, s.ackBy[0]);
  }

  sheetDestroyed(custodian: string, method: 'prompt' | 'app' | 'ack-all'): void {
    const sheet = this.sheets.find((x) => x.custodian === custodian);
    if (!sheet) throw new OperationError(`'${custodian}' held no share of the versions being destroyed`);
    this.record('sheet.destroyed', { custodian, shares: sheet.shares, method }, custodian);
  }

  /** Destroys each version and the leftovers on this token; each version must be gone afterwards. */
  destroyVersions(): void {
    const plan = this.loaded.plan;
    const acknowledged = new Set(this.written.filter((e) => e.type === 'step.acknowledged').map((e) => (e.data as { step: string }).step));
    const pendingStep = plan.steps.find((x) => !acknowledged.has(x.id));
    if (pendingStep) throw new OperationError(`step '${pendingStep.id}' has not been acknowledged`);
    const done = new Set(this.written.filter((e) => e.type === 'sheet.destroyed').map((e) => (e.data as { custodian: string }).custodian));
    const pendingSheet = this.sheets.find((x) => !done.has(x.custodian));
    if (pendingSheet) throw new OperationError(`custodian '${pendingSheet.custodian}' has not acknowledged destroying their sheet`);
    const s = this.session!;
    const token = { label: this.token!.label, serialNumber: this.token!.serialNumber };
    try {
      for (const t of this.targets) {
        const objects = s.destroyObjects({ label: t.label, idHex: t.idHex });
        const remaining = s.findObjects({ label: t.label, idHex: t.idHex }).length;
        const data = { version: t.version, label: t.label, id: t.idHex, ceremonyId: t.bundle.ceremonyId, objects, remaining, token };
        this.record('version.destroyed', data, this.admin);
        if (remaining !== 0) throw new OperationError(`version ${t.version} ('${t.label}'): ${remaining} object(s) are still on token '${token.label}' after C_DestroyObject`);
        this.destroyedVersions.push(data);
        // Copies this token holds from recoveries of the version, then the ceremony's leftovers.
        for (const r of recoveredCopies(t)) {
          if (r.token.serialNumber !== token.serialNumber || r.token.label !== token.label) continue;
          const n = s.destroyObjects({ label: r.label, idHex: r.id });
          this.record('key.destroyed', { role: `recovered copy of version ${t.version}`, label: r.label, id: r.id, objects: n }, this.admin);
        }
        for (const label of leftoverLabels(t.bundle.ceremonyId)) {
          const found = s.findObjects({ label });
          if (!found.length) continue;
          const n = s.destroyObjects({ label });
          this.record('key.destroyed', { role: 'leftover', label, id: found[0].idHex, objects: n }, this.admin);
        }
      }
    } catch (err) {
      this.abort(err instanceof KeyriteError ? err.message : String(err), 'destroy');
      throw err;
    }
  }

  /** The certificate of destruction; returns where copies may still exist. */
  certify(): EventData['destruction.certified'] {
    const token = { label: this.token!.label, serialNumber: this.token!.serialNumber };
    const data: EventData['destruction.certified'] = {
      versions: this.targets.map((t) => {
        const d = this.destroyedVersions.find((x) => x.version === t.version)!;
        return { version: t.version, label: t.label, id: t.idHex, algorithm: t.algorithm, fingerprint: t.fingerprint, objectsDestroyed: d.objects, gone: d.remaining === 0 };
      }),
      token,
      copiesRemaining: this.targets.flatMap((t) => copiesElsewhere(t, token)),
    };
    this.record('destruction.certified', data, this.admin);
    return data;
  }

  /** ceremony.completed, then the signed statement by a one-time signer, destroyed once the envelope is written. */
  finish(): { bundleDir: string; signerKeyid: string } {
    const s = this.session!;
    const w = this.writer!;
    const label = `keyrite-signer:${this.loaded.plan.id}`;
    const signerId = s.random(16);
    // Announced before it exists, recorded once it does (as a ceremony's signer is): verify ties the
    // statement's ceremony signer to this signer.generated event.
    this.record('key.generating', { role: 'signer', label, id: signerId.toString('hex'), algorithm: 'ec-p384' });
    const signer = s.generateSignerKey(label, signerId);
    const spki = s.publicKeySpki(signer.publicKey ?? signer.key);
    writeNewFile(path.join(this.bundleDir, 'keys', `${keyidOf(spki)}.pub.pem`), toPem(spki));
    this.record('signer.generated', { role: 'ceremony', label, id: signerId.toString('hex'), keyid: keyidOf(spki), spki: spki.toString('base64'), attributes: { ...s.readAttributes(signer.key) } });
    this.record('ceremony.completed', { chainHead: w.head, eventCount: w.count });
    w.close();
    const signers: EnvelopeSigner[] = [{ role: 'ceremony', spki, sign: (msg) => s.sign(signer.key, SIGNER_SCHEME, msg) }];
    const first = this.targets[0];
    const predicate = {
      ceremonyId: this.loaded.plan.id,
      title: this.loaded.plan.title,
      chainHead: w.head,
      eventCount: w.count,
      root: rootDescription({ algorithm: first.algorithm, label: first.label, ...(first.fingerprint.startsWith('KCV ') ? { kcv: first.fingerprint.slice(4) } : { publicKeySha256: first.fingerprint }) }),
      signers: signers.map((x) => signerEntry(x.role, x.spki)),
      ceremonySigner: { keyid: keyidOf(spki), oneTime: true },
      destruction: this.written.find((e) => e.type === 'destruction.certified')!.data,
    } as KeyritePredicate;
    signEnvelope(path.join(this.bundleDir, 'transcript.dsse.json'), buildStatement({ bundleDir: this.bundleDir, predicateType: DESTRUCTION_PREDICATE_TYPE, predicate }), signers);
    s.destroyObjects({ label });
    this.close();
    return { bundleDir: this.bundleDir, signerKeyid: keyidOf(spki) };
  }

  abort(reason: string, step: string): void {
    if (this.writer && !this.writer.closed) {
      this.record('ceremony.aborted', { reason, step });
      this.writer.close();
    }
  }

  close(): void {
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

/** Where a recovery restored the version (BUNDLE/recoveries/<time>/ of its generating bundle and of each re-share of it). */
function recoveredCopies(t: DestroyTarget): EventData['key.recovered'][] {
  const out: EventData['key.recovered'][] = [];
  for (const dir of new Set([t.bundle.dir, ...t.backups.map((b) => b.dir)])) out.push(...recoveredIn(dir));
  return out;
}

function recoveredIn(dir: string): EventData['key.recovered'][] {
  const root = path.join(dir, RECOVERIES_DIR);
  if (!existsSync(root)) return [];
  const out: EventData['key.recovered'][] = [];
  for (const name of readdirSync(root).sort()) {
    try {
      const ev = readTranscript(readFileSync(path.join(root, name, TRANSCRIPT_FILE))).events.find((e) => e.type === 'key.recovered');
      if (ev) out.push(ev.data as EventData['key.recovered']);
    } catch {
      /* unreadable: history and verify say so */
    }
  }
  return out;
}

/** Every place outside this token where the version may still exist, as the certificate names it. */
function copiesElsewhere(t: DestroyTarget, token: { label: string; serialNumber: string }): EventData['destruction.certified']['copiesRemaining'] {
  const out: EventData['destruction.certified']['copiesRemaining'] = [];
  const v = `version ${t.version}`;
  for (const e of t.bundle.exports)
    out.push({ where: `KMS export '${e.target}' (${e.kind})`, detail: `${v} was exported wrapped (${e.algorithm}) by ceremony ${t.bundle.ceremonyId}; delete its key material in the KMS` });
  const gen = t.bundle.events.find((e) => e.type === 'hsm.selected')?.data as EventData['hsm.selected'] | undefined;
  if (gen && (gen.token.serialNumber !== token.serialNumber || gen.token.label !== token.label))
    out.push({ where: `token '${gen.token.label}' serial ${gen.token.serialNumber}`, detail: `${v} was generated there (ceremony ${t.bundle.ceremonyId}); this ceremony ran on another token` });
  for (const r of recoveredCopies(t))
    if (r.token.serialNumber !== token.serialNumber || r.token.label !== token.label)
      out.push({ where: `token '${r.token.label}' serial ${r.token.serialNumber}`, detail: `${v} was recovered there as '${r.label}' (a recoveries/ folder of its bundles)` });
  for (const b of t.backups.length ? t.backups : [t.bundle])
    out.push({
      where: `bundle ${b.ceremonyId}: backup/root.wrapped`,
      detail: `opens with the shares of set ${b.backup?.identifier ?? '?'} (${v}); every copy of the bundle holds it, which is why the custodians' sheets are destroyed (sheet.destroyed)`,
    });
  return out;
}
