/**
 * The main process's side of the app's re-share and destroy ceremonies (docs/lifecycle.md), over
 * core/lifecycle's ReshareCeremony and DestroyCeremony. Plain Node, like ipc.ts, whose
 * createHandlers spreads these in. A rotation is a generate plan with a link and runs through the
 * ordinary ceremony handlers (openPlan), so it has nothing here.
 *
 * Secrets go one way: old and new share words and the PIN come in as arguments and go straight to
 * core; what is returned is public (custodian, group, member, check values, file names).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type InterfaceSource, networkAcknowledgement } from './airgap.ts';
import type { ApiEvent, DestructionSummary, KeyriteApi, LifecycleSummary, Result, ShareSlot } from './api.ts';
import { OperationError, UsageError } from './core/errors.ts';
import { DestroyCeremony } from './core/lifecycle/destroy.ts';
import { statementDigest } from './core/lifecycle/facts.ts';
import { ReshareCeremony } from './core/lifecycle/reshare.ts';
import { shareCheckValue } from './core/shares/index.ts';
import type { Handles } from './handles.ts';
import type { SheetPrinter } from './print.ts';
import { assertLooksLikePlan, readChosenFile } from './safe-read.ts';
import { summarizeEvent } from './timeline.ts';

export type LifecycleMethod =
  | 'lifecycleOpen'
  | 'lifecycleOldShare'
  | 'lifecycleCheckOldShares'
  | 'lifecycleLogin'
  | 'lifecycleCheckIn'
  | 'lifecycleAcknowledge'
  | 'lifecycleRewrap'
  | 'lifecycleCheckPrinter'
  | 'lifecyclePrintSheet'
  | 'lifecycleWriteSheets'
  | 'lifecycleConfirmShare'
  | 'lifecycleTestRecovery'
  | 'lifecycleSheetDestroyed'
  | 'lifecycleDestroy'
  | 'lifecycleFinish'
  | 'lifecycleAbort';

export interface LifecycleDeps {
  chosen: Handles;
  printer: SheetPrinter;
  emit(event: ApiEvent): void;
  /** The machine's network interfaces (createHandlers' injection). */
  networkInterfaces?: InterfaceSource;
  /** A plan was opened (ipc.ts forgets the bundle signed before, and notes rehearsal for PDF output). */
  opened(rehearsal: boolean): void;
  /** The bundle is signed: co-signing (cosigning.ts) signs it next. */
  signed(bundle: { bundleDir: string; planId: string }): void;
}

const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const normalize = (words: string) => words.trim().toLowerCase().split(/\s+/).join(' ');

type Run =
  | { kind: 'reshare'; c: ReshareCeremony; oldShares: string[]; oldChecked: boolean; rehearsal: boolean; checkedQueue?: string }
  | { kind: 'destroy'; c: DestroyCeremony };

export function lifecycleHandlers(deps: LifecycleDeps): Pick<KeyriteApi, LifecycleMethod> {
  let run: Run | undefined;
  let opened = false;
  let finished = false;
  let checkedIn: string[] = [];
  let acknowledged: string[] = [];
  let destroyed: string[] = [];

  const current = (): Run => {
    if (!run) throw new OperationError('no re-share or destroy ceremony is open; open its plan first');
    return run;
  };
  const reshare = (): Extract<Run, { kind: 'reshare' }> => {
    const r = current();
    if (r.kind !== 'reshare') throw new OperationError(`this is a ${r.kind} ceremony, not a re-share`);
    return r;
  };
  const destroy = (): DestroyCeremony => {
    const r = current();
    if (r.kind !== 'destroy') throw new OperationError(`this is a ${r.kind} ceremony, not a destroy ceremony`);
    return r.c;
  };
  const loggedIn = (): Run => {
    if (!opened) throw new OperationError('log in to the token first');
    return current();
  };
  const onEvent = (ev: Parameters<typeof summarizeEvent>[0]) => deps.emit({ type: 'transcript', entry: summarizeEvent(ev) });

  const closeRun = () => {
    if (run && !finished && opened) {
      if (run.kind === 'reshare') run.c.abort('the app opened another plan');
      else run.c.abort('the app opened another plan', 'app');
    }
    run?.c.close();
    if (run?.kind === 'reshare') run.oldShares.length = 0;
    run = undefined;
  };

  return {
    async lifecycleOpen(planHandle, outHandle, rehearsal) {
      const file = deps.chosen.path(planHandle, 'plan', 'plan');
      const bytes = readChosenFile(file);
      assertLooksLikePlan(file, bytes);
      const kind = (JSON.parse(bytes.toString('utf8')) as { ceremony?: unknown }).ceremony;
      if (kind !== 'reshare' && kind !== 'destroy')
        throw new UsageError(`${path.basename(file)} is a ${typeof kind === 'string' ? kind : 'generate'} plan; run it with "Run a ceremony" (a rotation is a generate ceremony with a link)`);
      if (run && opened && !finished) throw new OperationError(`ceremony '${run.c.loaded.plan.id}' is still running; stop it before opening another plan`);
      closeRun();
      opened = false;
      finished = false;
      checkedIn = [];
      acknowledged = [];
      destroyed = [];
      const outDir = outHandle ? deps.chosen.path(outHandle, 'folder', 'bundle folder') : path.dirname(file);
      if (kind === 'reshare') {
        const c = ReshareCeremony.load(file, { outDir, rehearsal, frontEnd: 'desktop', onEvent });
        run = { kind, c, oldShares: [], oldChecked: false, rehearsal };
      } else {
        run = { kind, c: DestroyCeremony.load(file, { outDir, rehearsal, frontEnd: 'desktop', onEvent }) };
      }
      deps.opened(rehearsal);
      return ok(summarize(run, rehearsal));
    },

    async lifecycleOldShare(words) {
      const r = reshare();
      if (opened) throw new OperationError('the old shares are entered before the token is opened');
      const split = r.c.loaded.source.split;
      const m = normalize(words);
      const cv = shareCheckValue(m);
      const share = split.shares.find((s) => s.checkValue === cv);
      if (!share) throw new OperationError(`that share is not one of the shares of set ${split.identifier} (version ${r.c.loaded.source.version}, bundle ${r.c.loaded.source.backupBundle.ceremonyId})`);
      if (r.oldShares.some((x) => shareCheckValue(x) === cv)) throw new OperationError(`${share.custodian}'s share (group ${share.group}, member ${share.member}) was already entered`);
      r.oldShares.push(m);
      r.oldChecked = false;
      return ok({ custodian: share.custodian, group: share.group, member: share.member, entered: r.oldShares.length });
    },
    async lifecycleCheckOldShares() {
      const r = reshare();
      try {
        r.c.enterOldShares(r.oldShares);
      } catch (err) {
        // Start again from the first share: which one is wrong cannot be told from a KCV.
        r.oldShares.length = 0;
        throw err;
      }
      r.oldChecked = true;
      const entered = r.oldShares.length;
      r.oldShares.length = 0;
      return ok({ ok: true as const, entered });
    },
    async lifecycleLogin(pin, networkAcknowledged = false) {
      const r = current();
      if (opened) throw new OperationError('the token is already open');
      if (r.kind === 'reshare' && !r.oldChecked) throw new OperationError('enter and check the old shares first: they are checked before the token is touched');
      const admin = r.c.loaded.plan.participants.find((p) => p.role === 'administrator')!.id;
      // Checked before the token is touched, so a refusal leaves nothing behind.
      const networkAck = networkAcknowledgement(deps.networkInterfaces, networkAcknowledged, admin);
      const t = r.c.open(pin);
      // The app checks each participant in by a click (lifecycleCheckIn).
      if (r.kind === 'reshare') r.c.begin(false);
      else r.c.begin();
      // As at generation: an acknowledged live network is an exception at step "network".
      if (networkAck) r.c.addNote(networkAck, admin, 'exception', 'network');
      opened = true;
      return ok({ tokenLabel: t.label, tokenSerial: t.serialNumber });
    },
    async lifecycleCheckIn(participantId) {
      loggedIn().c.checkIn(participantId);
      if (!checkedIn.includes(participantId)) checkedIn.push(participantId);
      return ok({ checkedIn: [...checkedIn] });
    },
    async lifecycleAcknowledge(stepId) {
      const r = loggedIn();
      const missing = r.c.loaded.plan.participants.filter((p) => !checkedIn.includes(p.id));
      if (missing.length) throw new OperationError(`check in ${missing.map((p) => p.name).join(', ')} first`);
      r.c.acknowledge(stepId, 'app');
      if (!acknowledged.includes(stepId)) acknowledged.push(stepId);
      return ok({ acknowledged: [...acknowledged] });
    },
    async lifecycleCheckPrinter(queue) {
      const r = reshare();
      await listedPrinter(deps.printer, queue);
      const result = await deps.printer.checkPrinter(queue);
      r.c.recordPrinterCheck(result);
      const passed = result.checks.every((x) => x.ok);
      r.checkedQueue = passed ? queue : undefined;
      return ok({ ok: passed, checks: result.checks.map((x) => ({ name: x.name, ok: x.ok, detail: x.detail })) });
    },
    async lifecyclePrintSheet(index, queue) {
      const r = reshare();
      if (r.rehearsal) throw new OperationError('a rehearsal writes its new sheets as files (lifecycleWriteSheets)');
      if (r.checkedQueue !== queue) throw new OperationError(`printer '${queue}' has not passed the printer checks in this ceremony; check it first`);
      await listedPrinter(deps.printer, queue);
      const job = await deps.printer.print(await r.c.shareSheet(index), queue);
      r.c.markPrinted(index, { queue, jobId: job.jobId, spoolClean: job.spoolClean });
      return ok({ output: queue });
    },
    async lifecycleRewrap() {
      const r = reshare();
      loggedIn();
      // As at generation: a production ceremony's printer passes its checks before the new key exists.
      if (!r.rehearsal && r.checkedQueue === undefined) throw new OperationError('check the printer first: the new sheets are printed on a checked local printer, checked before the new backup key is made');
      const pending = r.c.loaded.plan.steps.find((s) => !acknowledged.includes(s.id));
      if (pending) throw new OperationError(`step '${pending.id}' has not been acknowledged`);
      const name = (id: string) => r.c.loaded.plan.participants.find((p) => p.id === id)?.name ?? id;
      const out: ShareSlot[] = r.c.rewrap().map((s) => ({ index: s.index, group: s.group, member: s.member, custodian: s.custodian, name: name(s.custodian), checkValue: s.checkValue }));
      return ok(out);
    },
    async lifecycleWriteSheets() {
      const r = reshare();
      // Rehearsal sheets beside the bundle, never inside it (the bundle's files are fixed by its statement).
      const dir = path.join(path.dirname(r.c.bundleDir), `${r.c.loaded.plan.id}-rehearsal-shares`);
      mkdirSync(dir, { recursive: true });
      const files = r.c.writeSheets(dir).map((f) => path.basename(f));
      return ok({ folder: path.basename(dir), files });
    },
    async lifecycleConfirmShare(index, words) {
      const r = reshare();
      const s = r.c.newShares[index];
      if (!s) throw new UsageError(`there is no new share ${index + 1}`);
      r.c.confirmShare(index, words, 'typed');
      return ok({ checkValue: s.checkValue });
    },
    async lifecycleTestRecovery() {
      const r = reshare();
      if (!r.c.newShares.every((s) => s.confirmed)) throw new OperationError('every new share is confirmed before the test recovery');
      r.c.testRecovery();
      return ok({ ok: true });
    },
    async lifecycleSheetDestroyed(custodian) {
      const r = loggedIn();
      if (r.kind === 'reshare') r.c.oldSheetDestroyed(custodian, 'app');
      else r.c.sheetDestroyed(custodian, 'app');
      if (!destroyed.includes(custodian)) destroyed.push(custodian);
      return ok({ destroyed: [...destroyed] });
    },
    async lifecycleDestroy() {
      const c = destroy();
      loggedIn();
      c.destroyVersions();
      const cert = c.certify();
      const out: DestructionSummary = {
        versions: cert.versions.map((v) => ({ version: v.version, label: v.label, objectsDestroyed: v.objectsDestroyed, gone: v.gone })),
        copiesRemaining: cert.copiesRemaining.map((x) => ({ where: x.where, detail: x.detail })),
      };
      return ok(out);
    },
    async lifecycleFinish() {
      const r = loggedIn();
      if (r.kind === 'reshare') {
        const pending = r.c.oldCustodians.find((x) => !destroyed.includes(x));
        if (pending) throw new OperationError(`'${pending}' has not acknowledged destroying their old sheet`);
      } else if (!r.c.events.some((e) => e.type === 'destruction.certified')) throw new OperationError('destroy the versions first');
      const { bundleDir } = r.c.finish();
      finished = true;
      deps.signed({ bundleDir, planId: r.c.loaded.plan.id });
      return ok({ bundleDir, statementSha256: statementDigest(bundleDir) ?? '' });
    },
    async lifecycleAbort(reason) {
      const r = current();
      if (finished) throw new OperationError('the ceremony is already signed');
      if (r.kind === 'reshare') r.c.abort(reason);
      else r.c.abort(reason, 'app');
      r.c.close();
      run = undefined;
      opened = false;
      return ok({ stopped: true });
    },
  };
}

/** Only a printer this machine reports: the renderer cannot name a queue of its own choosing. */
async function listedPrinter(printer: SheetPrinter, queue: string): Promise<void> {
  const names = (await printer.listPrinters()).map((p) => p.name);
  if (!names.includes(queue)) throw new UsageError(`printer ${JSON.stringify(queue)} is not one of this machine's printers (${names.length ? names.join(', ') : 'none found'}); choose one from the list`);
}

function summarize(run: Run, rehearsal: boolean): LifecycleSummary {
  const l = run.c.loaded;
  const p = l.plan;
  const name = (id: string) => p.participants.find((x) => x.id === id)?.name ?? id;
  const base = {
    id: p.id,
    title: p.title,
    bundleDir: run.c.bundleDir,
    rehearsal,
    previous: { ceremonyId: l.lifecycle.previous!.ceremonyId, statementSha256: l.lifecycle.previous!.statementSha256 },
    keyVersion: l.lifecycle.keyVersion,
    participants: p.participants.map((x) => ({ id: x.id, name: x.name, role: x.role })),
    hsm: { module: p.hsm.module, tokenLabel: p.hsm.tokenLabel, tokenSerial: p.hsm.tokenSerial, slot: p.hsm.slot, initArgs: p.hsm.initArgs },
    steps: p.steps.map((s) => ({ id: s.id, text: s.text, ackBy: [...s.ackBy] })),
  };
  if (run.kind === 'reshare') {
    const src = run.c.loaded.source;
    const b = run.c.loaded.plan.backup;
    const sheets = run.c.oldCustodians.map((c) => ({
      custodian: c,
      name: name(c),
      shares: src.split.shares.filter((s) => s.custodian === c).map((s) => `version ${src.version}, group ${s.group}, member ${s.member} (check ${s.checkValue})`),
    }));
    return {
      ...base,
      kind: 'reshare',
      reshare: {
        version: src.version,
        fromCeremony: src.backupBundle.ceremonyId,
        identifier: src.split.identifier,
        groupThreshold: src.split.groupThreshold,
        groups: src.split.groups.map((g) => ({ threshold: g.threshold, count: g.count })),
        newLayout: { groupThreshold: b.groupThreshold, groups: b.groups.map((g) => ({ threshold: g.threshold, count: g.custodians.length })) },
        custodians: b.groups.flatMap((g, gi) => g.custodians.map((c, ci) => ({ group: gi + 1, member: ci + 1, custodian: c, name: name(c) }))).map((x, index) => ({ index, ...x })),
      },
      sheets,
    };
  }
  const c = run.c;
  return {
    ...base,
    kind: 'destroy',
    destroy: { versions: c.targets.map((t) => ({ version: t.version, label: t.label, algorithm: t.algorithm, fingerprint: t.fingerprint, ceremonyId: t.bundle.ceremonyId })) },
    sheets: c.sheets.map((s) => ({ custodian: s.custodian, name: name(s.custodian), shares: s.shares.map((x) => `version ${x.version}, group ${x.group}, member ${x.member} (check ${x.checkValue})`) })),
  };
}
