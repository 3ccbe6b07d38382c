/**
 * `keyrite ceremony abort`: closes a ceremony that stopped early. It records the abort in the
 * transcript, removes from the token every object the transcript says the ceremony created
 * (key.generating: label + id, private and public halves), records each removal, and signs what
 * exists. Order (docs/reliability.md): the root's objects go first and are recorded; the transcript
 * is closed with ceremony.cleanup-completed naming the signer as "removed after signing"; the
 * signer signs the statement over the partial bundle (predicate.aborted = true); then the signer's
 * objects are removed. verify calls the result INCOMPLETE (aborted), never valid.
 */
import { existsSync, readdirSync, readFileSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { OperationError, UsageError } from '../errors.ts';
import { openModule as realOpenModule } from '../hsm/module.ts';
import { endSession, exactSelector, HsmError, selectOn, selectorOf } from '../hsm/index.ts';
import type { HsmModule, HsmSession, ModuleOptions, ObjectInfo } from '../hsm/types.ts';
import { sha256Hex } from '../transcript/chain.ts';
import { CEREMONY_PREDICATE_TYPE, ENVELOPE_FILE, keyidOf, signBundle, spkiFromPem, TRANSCRIPT_FILE } from '../transcript/dsse.ts';
import type { TranscriptEvent } from '../transcript/events.ts';
import { verifyBundle } from '../verify/index.ts';
import { TranscriptWriter } from '../transcript/writer.ts';
import { signerSchemeOf } from './key-checks.ts';
import { oneTimeSigner } from './one-time-signer.ts';
import { ceremonyStatus, type AnnouncedKey, type CeremonyStatus } from './status.ts';
import { stepAfter } from './steps.ts';

export interface AbortTarget {
  key: AnnouncedKey;
  /** Objects with this label and id found on the token (both halves of a pair). */
  found: ObjectInfo[];
}

/** What abort will do; shown to the administrator before anything changes. */
export interface AbortPlan {
  ceremonyId: string;
  bundleDir: string;
  status: CeremonyStatus;
  token?: { label: string; serialNumber: string; modulePath: string };
  targets: AbortTarget[];
  /** Whether the signer will sign the statement over the partial bundle before it is removed. */
  willSign: boolean;
  /** Why not, when it will not. */
  noSignReason?: string;
  /** True when the bundle is already closed by a signed abort: leftovers are removed, nothing is written. */
  sealed: boolean;
}

export interface AbortOptions {
  /** Why; required unless the transcript already records ceremony.aborted. Never a secret. */
  reason?: string;
  /** Asked only when the token is needed (some key was announced). */
  pin: () => Promise<string>;
  /** Shown the plan; false cancels before anything is changed. */
  confirm: (plan: AbortPlan) => Promise<boolean>;
  /** Module file to use instead of the one hsm.selected names (another machine). */
  modulePath?: string;
  /** C_Initialize arguments instead of the ones hsm.selected recorded (--module-args). */
  moduleArgs?: string;
  /** Replaces core/hsm's openModule (fault-injection tests). */
  openModule?: (path: string, opts?: ModuleOptions) => HsmModule;
}

export interface AbortResult {
  plan: AbortPlan;
  /** Objects removed, per announced key. */
  destroyed: { role: string; label: string; id: string; objects: number }[];
  signed: boolean;
  /** Events appended to the transcript. */
  eventsAdded: number;
  /** verify's verdict afterwards, e.g. "INCOMPLETE: aborted after key.generated: …". */
  verdict: string;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : String(v ?? ''));

/** Why the bundle could not carry a valid abort statement, or undefined when it can. */
function signingObstacle(bundleDir: string, status: CeremonyStatus): string | undefined {
  const ev = (t: string) => status.events.find((e) => e.type === t);
  if (!ev('key.generated')) return 'the root key was never recorded as generated, so the statement would have no root to name';
  const signer = ev('signer.generated');
  if (!signer) return 'the signer was never recorded as generated';
  // A key file the process was writing when it died would make the statement unverifiable.
  const keysDir = path.join(bundleDir, 'keys');
  const files = existsSync(keysDir) ? readdirSync(keysDir) : [];
  for (const f of files) {
    if (f === 'root.pub.pem') continue;
    const m = /^([0-9a-f]{64})\.pub\.pem$/.exec(f);
    try {
      if (!m || keyidOf(spkiFromPem(readFileSync(path.join(keysDir, f), 'utf8'))) !== m[1]) return `keys/${f} is incomplete or damaged`;
    } catch {
      return `keys/${f} is incomplete or damaged`;
    }
  }
  if (!files.includes(`${str(signer.data.keyid)}.pub.pem`)) return `keys/${str(signer.data.keyid)}.pub.pem is missing`;
  return undefined;
}

/** Finds the token the transcript names (label, serial, and slot where the ceremony needed it), logs in. */
function openToken(status: CeremonyStatus, pin: string, opts: AbortOptions): { module: HsmModule; session: HsmSession } {
  const t = status.token!;
  const modulePath = opts.modulePath ?? t.modulePath;
  const module = (opts.openModule ?? realOpenModule)(modulePath, { initArgs: opts.moduleArgs ?? t.initArgs });
  try {
    let found;
    try {
      found = selectOn(module, selectorOf(t)).token;
    } catch (err) {
      if (err instanceof HsmError && err.code === 'token-not-found')
        throw new OperationError(`token '${t.label}' (serial ${t.serialNumber}) is not in module ${modulePath}: insert it (or give --module PATH), then run abort again`, { cause: err });
      throw err;
    }
    return { module, session: module.login(exactSelector(found), pin) };
  } catch (err) {
    module.close();
    throw err;
  }
}

export async function abortCeremony(bundleDir: string, opts: AbortOptions): Promise<AbortResult> {
  const status = ceremonyStatus(bundleDir);
  const id = status.ceremonyId;
  if (!id) throw new OperationError(`${path.join(bundleDir, TRANSCRIPT_FILE)} has no ceremony.started; this is not a ceremony bundle`);
  if (status.outcome === 'completed')
    throw new OperationError(`ceremony '${id}' completed and was signed; abort never removes the keys of a completed ceremony`);
  if (status.outcome === 'completed-unsigned')
    throw new OperationError(`ceremony '${id}' completed (its exports may already be imported) but was never signed; abort never removes the keys of a completed ceremony`);
  const alreadyAborted = Boolean(status.aborted);
  const reason = opts.reason?.trim();
  if (!alreadyAborted && !reason) throw new UsageError(`ceremony abort: --reason is required: say why ceremony '${id}' is abandoned`);
  const sealed = status.signed; // closed by an earlier signed abort: write nothing more

  const targets: AbortTarget[] = status.keys.map((key) => ({ key, found: [] }));
  let module: HsmModule | undefined;
  let session: HsmSession | undefined;
  let writer: TranscriptWriter | undefined;
  try {
    if (status.keys.length) {
      if (!status.token) throw new OperationError(`the transcript announces keys but names no token (no hsm.selected)`);
      ({ module, session } = openToken(status, await opts.pin(), opts));
      for (const t of targets) t.found = session.findObjects({ label: t.key.label, idHex: t.key.id });
    }
    const signerTarget = targets.find((t) => t.key.role === 'signer');
    const signerPriv = signerTarget && session?.findKey({ label: signerTarget.key.label, idHex: signerTarget.key.id, kind: 'private' });
    const obstacle = sealed ? `${ENVELOPE_FILE} already exists` : !signerPriv ? 'the signer key is not on the token' : signingObstacle(bundleDir, status);
    const plan: AbortPlan = {
      ceremonyId: id,
      bundleDir,
      status,
      token: status.token && status.keys.length ? { ...status.token, modulePath: opts.modulePath ?? status.token.modulePath } : undefined,
      targets,
      willSign: !obstacle,
      noSignReason: obstacle,
      sealed,
    };
    if (!(await opts.confirm(plan))) throw new OperationError(`abort of ceremony '${id}' cancelled; nothing was changed`);

    const admin = (status.events[0]?.data.participants as { id: string; role: string }[] | undefined)?.find((p) => p.role === 'administrator')?.id ?? 'system';
    const transcript = path.join(bundleDir, TRANSCRIPT_FILE);
    let added = 0;
    const record = (type: string, data: Record<string, unknown>, actor = 'system'): TranscriptEvent => {
      const ev = writer!.append(type, actor, data) as TranscriptEvent;
      added++;
      return ev;
    };
    if (!sealed) {
      // The torn line is an event whose write never returned, so its step never ran: set it aside, on the record.
      if (status.tornTail) truncateSync(transcript, status.tornTail.offset);
      writer = TranscriptWriter.resume(transcript);
      // Named in the engine's words (steps.ts), as a run that records its own abort would.
      if (!alreadyAborted) record('ceremony.aborted', { reason: reason!, step: stepAfter(status.events.at(-1)), by: admin }, admin);
      if (status.tornTail) record('transcript.tail-removed', { line: status.tornTail.line, bytes: status.tornTail.bytes.length, sha256: sha256Hex(status.tornTail.bytes) });
    }

    const destroyed: AbortResult['destroyed'] = [];
    const destroy = (t: AbortTarget) => {
      const n = t.found.length ? session!.destroyObjects({ label: t.key.label, idHex: t.key.id }) : 0;
      const entry = { role: t.key.role, label: t.key.label, id: t.key.id, objects: n };
      destroyed.push(entry);
      if (writer) record('key.destroyed', entry, admin);
    };
    const signLater = plan.willSign ? signerTarget : undefined;
    // Roots first; the signer last, after it has signed.
    for (const t of [...targets].sort((a, b) => (a.key.role === b.key.role ? 0 : a.key.role === 'root' ? -1 : 1))) if (t !== signLater) destroy(t);

    if (writer) {
      record('ceremony.cleanup-completed', {
        token: { label: status.token?.label ?? '', serialNumber: status.token?.serialNumber ?? '' },
        destroyed: destroyed.reduce((n, d) => n + d.objects, 0),
        afterSigning: signLater ? [{ role: 'signer', label: signLater.key.label, id: signLater.key.id }] : [],
        signed: Boolean(signLater),
      }, admin);
      writer.close();
    }
    if (signLater && writer) {
      const gen = status.events.find((e) => e.type === 'key.generated')!.data;
      const pub = gen.publicKey as { sha256?: string } | undefined;
      const spki = Buffer.from(str(status.events.find((e) => e.type === 'signer.generated')!.data.spki), 'base64');
      signBundle({
        bundleDir,
        predicateType: CEREMONY_PREDICATE_TYPE,
        predicate: {
          ceremonyId: id,
          title: status.title,
          chainHead: writer.head,
          eventCount: writer.count,
          root: pub?.sha256
            ? { algorithm: str(gen.algorithm), label: str(gen.label), publicKeySha256: pub.sha256 }
            : { algorithm: str(gen.algorithm), label: str(gen.label), kcv: str(gen.kcv) },
          aborted: true,
          abortedStep: status.aborted?.step ?? stepAfter(status.events.at(-1)),
          // Removed right below, as after any statement it signs (one-time-signer.ts).
          ceremonySigner: oneTimeSigner(keyidOf(spki)),
        },
        signers: [{ role: 'ceremony', spki, sign: (msg) => session!.sign(signerPriv!, signerSchemeOf(spki), msg) }],
      });
      try {
        const n = session!.destroyObjects({ label: signLater.key.label, idHex: signLater.key.id });
        destroyed.push({ role: 'signer', label: signLater.key.label, id: signLater.key.id, objects: n });
      } catch (err) {
        throw new OperationError(`the abort was recorded and signed, but the signer '${signLater.key.label}' could not be removed (${(err as Error).message}); run \`keyrite ceremony abort ${bundleDir}\` again to remove it`);
      }
    }
    const v = verifyBundle(bundleDir);
    return { plan, destroyed, signed: Boolean(signLater && writer), eventsAdded: added, verdict: v.verdict };
  } finally {
    writer?.close();
    endSession(session);
    module?.close();
  }
}
