/**
 * `keyrite ceremony sign`: finishes a bundle left "completed but never signed" (the process died,
 * or the token was unplugged, between ceremony.completed and transcript.dsse.json). It does what
 * finish() had left to do — report.html if missing, then the envelope signed by the ceremony signer
 * and, when the root can sign, by the root — with the keys the transcript names, found on the token
 * by label and CKA_ID and checked against the recorded public keys. Nothing is appended to the
 * transcript (the envelope covers it as it is). Like finish(), it then destroys the one-time ceremony
 * signer on the token (one-time-signer.ts): a bundle is signed once, by this command or by the
 * ceremony, never twice — so a transcript edited afterwards can never be re-signed.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { KeyriteError, OperationError, UsageError } from '../errors.ts';
import { openModule as realOpenModule } from '../hsm/module.ts';
import type { HsmModule, HsmSession, KeyRef, ModuleOptions, RootAlgorithm, TokenSelectedBy } from '../hsm/types.ts';
import { exactSelector, HsmError, selectOn, selectorOf } from '../hsm/index.ts';
import { renderReport } from '../sheets/index.ts';
import { sha256Hex } from '../transcript/chain.ts';
import {
  buildStatement,
  CEREMONY_PREDICATE_TYPE,
  ENVELOPE_FILE,
  keyidOf,
  signEnvelope,
  spkiFromPem,
  statementPayload,
  type EnvelopeSigner,
  type SignerRole,
} from '../transcript/dsse.ts';
import type { TranscriptEvent } from '../transcript/events.ts';
// verify's envelope checks are the only ones an unsigned bundle may fail; any other failure is damage.
import { ENVELOPE_CHECKS, verifyBundle } from '../verify/index.ts';
import { writeNewFile } from '../util/files.ts';
import { rootSignatureScheme, signerSchemeOf } from './key-checks.ts';
import { planSchema } from './plan.ts';
import { checkWrittenEnvelope, destroyOneTimeSigner } from './one-time-signer.ts';
import { ceremonyPredicate } from './statement.ts';
import { readCeremonyJournal } from './status.ts';

export interface SignOptions {
  /** Asked only once the bundle has been found ready to sign. */
  pin: () => Promise<string>;
  /** Module file to use instead of the one hsm.selected names (another machine). */
  modulePath?: string;
  /** C_Initialize arguments instead of the ones hsm.selected recorded (--module-args). */
  moduleArgs?: string;
  /** Replaces core/hsm's openModule (fault-injection tests). */
  openModule?: (path: string, opts?: ModuleOptions) => HsmModule;
}

export interface SignResult {
  ceremonyId: string;
  bundleDir: string;
  /** Whether report.html was missing and has been written. */
  reportWritten: boolean;
  signers: { role: SignerRole; keyid: string }[];
  /** verify's verdict afterwards: "VALID" unless something outside this command is wrong. */
  verdict: string;
  /** The statement digest (docs/transcript.md), for the paper record. */
  statementSha256: string;
}


const str = (v: unknown): string => (typeof v === 'string' ? v : String(v ?? ''));

interface RecordedKey {
  role: SignerRole;
  label: string;
  idHex: string;
  spki: Buffer;
}

/** Reads the transcript and refuses any bundle that is not exactly "completed, never signed". */
function readReadyBundle(bundleDir: string): { id: string; events: TranscriptEvent[]; head: string } {
  const { events, tornTail, head } = readCeremonyJournal(bundleDir);
  const started = events[0];
  if (started?.type !== 'ceremony.started' || !str(started.data.ceremonyId))
    throw new UsageError(`${path.join(bundleDir, 'transcript.jsonl')} does not begin with ceremony.started: ${bundleDir} is not a ceremony bundle`);
  const id = str(started.data.ceremonyId);
  if (existsSync(path.join(bundleDir, ENVELOPE_FILE))) throw new OperationError(`ceremony '${id}' is already signed (${ENVELOPE_FILE} exists); nothing to do, run \`keyrite verify ${bundleDir}\``);
  const aborted = events.find((e) => e.type === 'ceremony.aborted');
  if (aborted) throw new OperationError(`ceremony '${id}' was aborted (seq ${aborted.seq}, step '${str(aborted.data.step)}'); an aborted ceremony is never signed as completed`);
  if (tornTail) throw new OperationError(`ceremony '${id}': line ${tornTail.line} of transcript.jsonl was being written when the run stopped, so the transcript does not end with ceremony.completed; see \`keyrite ceremony status ${bundleDir}\``);
  const last = events.at(-1)!;
  if (last.type !== 'ceremony.completed')
    throw new OperationError(`ceremony '${id}' did not complete (stopped after ${last.type}, seq ${last.seq}); only a completed ceremony can be signed: see \`keyrite ceremony status ${bundleDir}\``);
  return { id, events, head };
}

/** The keys the transcript recorded: the ceremony signer, and the root when it signs statements. */
function recordedKeys(events: TranscriptEvent[], id: string): { signer: RecordedKey; root?: RecordedKey & { scheme: NonNullable<ReturnType<typeof rootSignatureScheme>> }; rootInfo: { algorithm: string; label: string; kcv?: string; publicKeySha256?: string } } {
  const sg = events.find((e) => e.type === 'signer.generated');
  const kg = events.find((e) => e.type === 'key.generated');
  if (!sg || !kg) throw new OperationError(`ceremony '${id}': the transcript has no ${sg ? 'key.generated' : 'signer.generated'} event`);
  const signer: RecordedKey = { role: 'ceremony', label: str(sg.data.label), idHex: str(sg.data.id), spki: Buffer.from(str(sg.data.spki), 'base64') };
  const algorithm = str(kg.data.algorithm);
  const pub = kg.data.publicKey as { spki?: string; sha256?: string } | undefined;
  const rootInfo = { algorithm, label: str(kg.data.label), kcv: typeof kg.data.kcv === 'string' ? kg.data.kcv : undefined, publicKeySha256: pub?.sha256 };
  const scheme = rootSignatureScheme(algorithm as RootAlgorithm);
  // As in finish(): a root that can sign, and whose public key is known, signs too.
  const root = scheme && pub?.spki ? { role: 'root' as const, label: rootInfo.label, idHex: str(kg.data.id), spki: Buffer.from(pub.spki, 'base64'), scheme } : undefined;
  return { signer, root, rootInfo };
}

/** keys/<keyid>.pub.pem of each signer is a subject of the statement: it must be there, and be that key. */
function checkKeyFiles(bundleDir: string, keys: RecordedKey[]): void {
  for (const k of keys) {
    const rel = `keys/${keyidOf(k.spki)}.pub.pem`;
    let der: Buffer | undefined;
    try {
      der = spkiFromPem(readFileSync(path.join(bundleDir, rel), 'utf8'));
    } catch {
      der = undefined;
    }
    if (!der?.equals(k.spki)) throw new OperationError(`${path.join(bundleDir, rel)} is missing or is not the ${k.role === 'root' ? 'root' : 'signer'} key the transcript records; the bundle is not signed`);
  }
}

/** The private key with this label and CKA_ID, after checking its public key is the recorded one. */
function findRecordedKey(s: HsmSession, k: RecordedKey, tokenName: string, missing: string): KeyRef {
  const priv = s.findKey({ label: k.label, idHex: k.idHex, kind: 'private' });
  if (!priv) throw new OperationError(`${k.role === 'root' ? 'root' : 'signer'} key '${k.label}' (id ${k.idHex}) is not on ${tokenName}: ${missing}`);
  const pubRef = s.findKey({ label: k.label, idHex: k.idHex, kind: 'public' });
  const spki = s.publicKeySpki(pubRef ?? priv);
  if (!spki.equals(k.spki))
    throw new OperationError(`${k.role === 'root' ? 'root' : 'signer'} key '${k.label}' (id ${k.idHex}) on ${tokenName} has public key ${sha256Hex(spki).slice(0, 16)}…, not the recorded ${sha256Hex(k.spki).slice(0, 16)}…; nothing was signed`);
  return priv;
}

/** report.html exactly as finish() renders it: the transcript's events and the bundle's plan, as loadPlan parses it. */
function renderBundleReport(bundleDir: string, events: TranscriptEvent[]): string {
  let plan: unknown;
  try {
    const bytes = readFileSync(path.join(bundleDir, 'plan.json'));
    const parsed = planSchema.safeParse(JSON.parse(bytes.toString('utf8')));
    plan = parsed.success ? parsed.data : undefined;
  } catch {
    plan = undefined;
  }
  if (!plan) throw new OperationError(`${path.join(bundleDir, 'plan.json')} is not the valid plan the ceremony ran; the bundle is not signed`);
  return renderReport(events, { plan });
}

function closeQuietly(session?: HsmSession, module?: HsmModule): void {
  for (const f of [() => session?.logout(), () => session?.close(), () => module?.close()]) {
    try {
      f();
    } catch {
      /* the token may be gone */
    }
  }
}

export async function signCompletedCeremony(bundleDir: string, opts: SignOptions): Promise<SignResult> {
  const { id, events, head } = readReadyBundle(bundleDir);

  // Everything but the envelope must already verify: a damaged or edited bundle is never signed.
  const pre = verifyBundle(bundleDir);
  const damage = pre.checks.find((c) => !c.ok && !ENVELOPE_CHECKS.has(c.name));
  if (damage) throw new OperationError(`ceremony '${id}' fails verification (${damage.name}: ${damage.detail}); the bundle is not signed`);

  const { signer, root, rootInfo } = recordedKeys(events, id);
  checkKeyFiles(bundleDir, root ? [signer, root] : [signer]);
  const reportFile = path.join(bundleDir, 'report.html');
  const report = renderBundleReport(bundleDir, events);
  const reportExists = existsSync(reportFile);
  // A report that is there but differs was cut short (or edited): never signed, never replaced.
  if (reportExists && !readFileSync(reportFile).equals(Buffer.from(report, 'utf8')))
    throw new OperationError(`${reportFile} is not the report this transcript renders (a write cut short?); move it out of the bundle and run \`keyrite ceremony sign\` again to write it afresh`);

  const sel = events.find((e) => e.type === 'hsm.selected');
  const tok = (sel?.data.token ?? {}) as { label?: string; serialNumber?: string; slotId?: string; selectedBy?: TokenSelectedBy };
  const initArgs = opts.moduleArgs ?? (sel?.data.module as { initArgs?: string } | undefined)?.initArgs;
  const modulePath = opts.modulePath ?? str((sel?.data.module as { path?: string } | undefined)?.path);
  if (!sel || !tok.serialNumber || !modulePath) throw new OperationError(`ceremony '${id}': the transcript names no token (hsm.selected)`);
  const tokenName = `token '${str(tok.label)}' (serial ${tok.serialNumber})`;

  const pin = await opts.pin();
  let module: HsmModule | undefined;
  let session: HsmSession | undefined;
  try {
    module = (opts.openModule ?? realOpenModule)(modulePath, { initArgs });
    let found;
    try {
      found = selectOn(module, selectorOf({ label: str(tok.label), serialNumber: tok.serialNumber, slotId: tok.slotId, selectedBy: tok.selectedBy })).token;
    } catch (err) {
      if (err instanceof HsmError && err.code === 'token-not-found')
        throw new OperationError(`${tokenName} is not in module ${modulePath}: insert it (or give --module PATH), then run \`keyrite ceremony sign\` again`, { cause: err });
      throw err;
    }
    session = module.login(exactSelector(found), pin);
    const s = session;
    const signerKey = findRecordedKey(s, signer, tokenName, 'without the ceremony signer this bundle cannot be signed (a ceremony signer signs one statement and is then destroyed, so a bundle that was signed once can never be signed again)');
    const signers: EnvelopeSigner[] = [{ role: 'ceremony', spki: signer.spki, sign: (msg) => s.sign(signerKey, signerSchemeOf(signer.spki), msg) }];
    if (root) {
      const rootKey = findRecordedKey(s, root, tokenName, `verify requires the signature of a ${rootInfo.algorithm} root, so this bundle cannot be signed without it`);
      signers.push({ role: 'root', spki: root.spki, sign: (msg) => s.sign(rootKey, root.scheme, msg) });
    }

    if (!reportExists) writeNewFile(reportFile, report);
    const statement = buildStatement({
      bundleDir,
      predicateType: CEREMONY_PREDICATE_TYPE,
      predicate: ceremonyPredicate({ ceremonyId: id, title: str(events[0].data.title), chainHead: head, eventCount: events.length, root: rootInfo, signers }),
    });
    const envelopeFile = path.join(bundleDir, ENVELOPE_FILE);
    try {
      // Every signature is made and checked before the envelope is written: a refusal writes nothing.
      signEnvelope(envelopeFile, statement, signers);
    } catch (err) {
      if (!(err instanceof KeyriteError)) throw err;
      throw new OperationError(`signing ceremony '${id}' failed, ${ENVELOPE_FILE} was not written: ${err.message}`, { cause: err });
    }
    // The signer signs once, as in finish(): checked on disk, then destroyed on the token.
    checkWrittenEnvelope(envelopeFile, statement);
    destroyOneTimeSigner(s, { label: signer.label, idHex: signer.idHex }, `ceremony '${id}'`);
    const post = verifyBundle(bundleDir);
    return {
      ceremonyId: id,
      bundleDir,
      reportWritten: !reportExists,
      signers: signers.map((x) => ({ role: x.role, keyid: keyidOf(x.spki) })),
      verdict: post.verdict,
      statementSha256: sha256Hex(statementPayload(statement)),
    };
  } finally {
    closeQuietly(session, module);
  }
}
