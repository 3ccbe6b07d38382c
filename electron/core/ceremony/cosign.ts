/**
 * `keyrite ceremony cosign` (docs/commands.md, docs/bundle.md): a witness or the administrator adds their own signature
 * to a signed bundle's statement with a key on their own PKCS#11 token — a smartcard, a YubiKey's PIV
 * key through OpenSC, an HSM. The order keeps a refusal harmless:
 *   1. the folder (a ceremony bundle or recoveries/<time>/) is read and checked: every signature
 *      verifies and the files are the statement's subjects (cosign-envelope.ts);
 *   2. the participant must be in the ceremony's plan as a witness or the administrator, and must
 *      not have co-signed already;
 *   3. only then is the PIN asked for; the key is found on the token (by --key-label, or the one
 *      private signing key there is), and must be the plan's participants[].keyid when the plan
 *      names one, and not a key that already signed;
 *   4. the token signs the envelope's PAE (encoding by key type: EC P-256/P-384 ECDSA DER, RSA
 *      PKCS#1 v1.5 SHA-256, Ed25519), the signature is checked, and then appended.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { KeyriteError, OperationError } from '../errors.ts';
import { endSession, openModule } from '../hsm/index.ts';
import type { HsmModule, HsmSession, KeyRef } from '../hsm/types.ts';
import { sha256Hex } from '../transcript/chain.ts';
import { keyidOf, RECOVERIES_DIR, signatureSchemeOf, statementDigest, TRANSCRIPT_FILE, verifySignature, type InTotoStatement } from '../transcript/dsse.ts';
import { appendCosignature, readSignedFolder, type CosignatureRecord } from './cosign-envelope.ts';

/** Opens a PKCS#11 module; the second argument carries C_Initialize's reserved string (--module-args). */
export type ModuleOpener = (path: string, opts?: { initArgs?: string }) => HsmModule;

export interface CosignOptions {
  /** The participant id in the plan. */
  participant: string;
  modulePath: string;
  tokenLabel: string;
  /** Narrows the token when labels repeat (the desktop app passes the chosen token's serial). */
  tokenSerial?: string;
  /** Narrows further where label and serial both repeat (decimal slot id, as `hsm list` shows it). */
  tokenSlot?: string;
  /** The co-signing key's CKA_LABEL; without it, the token must hold exactly one private signing key. */
  keyLabel?: string;
  /** C_Initialize's reserved string, for modules that need one (NSS softoken). */
  moduleArgs?: string;
  /** Asked only once the folder and the participant have been checked. */
  pin: () => Promise<string>;
  openModule?: ModuleOpener;
  now?: () => Date;
}

export interface CosignResult {
  dir: string;
  /** "ceremony" or "recovery". */
  kind: 'ceremony' | 'recovery';
  participant: string;
  role: 'witness' | 'administrator';
  keyid: string;
  /** Signatures in the envelope now, co-signatures included. */
  signatures: number;
  cosignatures: number;
  /** The statement digest (docs/transcript.md), unchanged by co-signing. */
  statementSha256: string;
  recordFile: string;
}

const planParticipants = z.object({
  participants: z.array(z.object({ id: z.string(), name: z.string().optional(), role: z.string(), keyid: z.string().optional() })),
});
type Participant = z.infer<typeof planParticipants>['participants'][number];

/**
 * The plan whose participants may co-sign: the bundle's plan.json, or for recoveries/<time>/ the
 * plan of the bundle it belongs to — checked against that bundle's signed statement, so that a plan
 * edited after the ceremony cannot let anyone else in.
 */
function planFor(dir: string, statement: InTotoStatement): { kind: 'ceremony' | 'recovery'; participants: Participant[]; planFile: string } {
  const parent = path.dirname(dir);
  const isRecovery = path.basename(parent) === RECOVERIES_DIR && !statement.subject.some((s) => s.name === 'plan.json');
  const bundle = isRecovery ? path.dirname(parent) : dir;
  const planFile = path.join(bundle, 'plan.json');
  let bytes: Buffer;
  try {
    bytes = readFileSync(planFile);
  } catch {
    throw new OperationError(`${planFile} cannot be read: without the ceremony's plan nobody can be checked as a co-signer`);
  }
  const signed = isRecovery ? ceremonyStatementOf(bundle, dir) : statement;
  const want = signed.subject.find((s) => s.name === 'plan.json')?.digest?.sha256;
  if (want !== sha256Hex(bytes)) throw new OperationError(`${planFile} is not the plan the ceremony's statement signed; nothing was signed`);
  let parsed;
  try {
    parsed = planParticipants.safeParse(JSON.parse(bytes.toString('utf8')));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) throw new OperationError(`${planFile} lists no participants; nothing was signed`);
  return { kind: isRecovery ? 'recovery' : 'ceremony', participants: parsed.data.participants, planFile };
}

/**
 * The statement of the ceremony a recovery folder belongs to. The ceremony bundle must verify too,
 * and the recovery must name that very statement (recovery.started.ceremonyStatementSha256): a
 * co-signer never vouches for a recovery that is not bound to its ceremony.
 */
function ceremonyStatementOf(bundle: string, recoveryDir: string): InTotoStatement {
  const ceremony = readSignedFolder(bundle);
  let named: unknown;
  try {
    const first = JSON.parse(readFileSync(path.join(recoveryDir, TRANSCRIPT_FILE), 'utf8').split('\n')[0]) as { type?: string; data?: { ceremonyStatementSha256?: unknown } };
    named = first.type === 'recovery.started' ? first.data?.ceremonyStatementSha256 : undefined;
  } catch {
    named = undefined;
  }
  const digest = statementDigest(ceremony.envelope);
  if (named !== digest)
    throw new OperationError(`${recoveryDir} does not name the statement of the ceremony in ${bundle} (recovery.started.ceremonyStatementSha256 ${typeof named === 'string' ? named.slice(0, 16) + '…' : 'missing'}, the ceremony's ${digest.slice(0, 16)}…); nothing was signed`);
  return ceremony.statement;
}

function checkParticipant(participants: Participant[], id: string, planFile: string): Participant & { role: 'witness' | 'administrator' } {
  const p = participants.find((x) => x.id === id);
  if (!p) throw new OperationError(`'${id}' is not a participant in ${planFile}; only the plan's witnesses and administrator co-sign`);
  if (p.role !== 'witness' && p.role !== 'administrator')
    throw new OperationError(`'${id}' is a ${p.role} in ${planFile}; only a witness or the administrator co-signs`);
  return p as Participant & { role: 'witness' | 'administrator' };
}

/** The one key to sign with: by label, or the only private signing key on the token. */
function findCosigningKey(s: HsmSession, keyLabel: string | undefined): KeyRef {
  const keys = s.findSigningKeys(keyLabel === undefined ? {} : { label: keyLabel });
  const tok = `token '${s.token.label}'`;
  if (keys.length === 1) return keys[0];
  if (keys.length === 0)
    throw new OperationError(keyLabel === undefined ? `${tok} holds no private key that may sign` : `${tok} holds no private signing key labelled '${keyLabel}'`);
  const labels = keys.map((k) => `'${k.label}'`).join(', ');
  throw new OperationError(keyLabel === undefined ? `${tok} holds ${keys.length} private signing keys (${labels}); give --key-label` : `${tok} holds ${keys.length} private signing keys labelled '${keyLabel}'; give a label that names one`);
}

export async function cosignBundle(folderPath: string, opts: CosignOptions): Promise<CosignResult> {
  const dir = path.resolve(folderPath);
  const folder = readSignedFolder(dir);
  const { kind, participants, planFile } = planFor(dir, folder.statement);
  const p = checkParticipant(participants, opts.participant, planFile);
  const already = [...folder.cosigners.entries()].find(([, r]) => r.participant === p.id);
  if (already) throw new OperationError(`'${p.id}' has already co-signed ${dir} (key ${already[0].slice(0, 16)}…); each participant co-signs once`);

  const pin = await opts.pin();
  const open: ModuleOpener = opts.openModule ?? openModule;
  let module: HsmModule | undefined;
  let session: HsmSession | undefined;
  try {
    module = open(opts.modulePath, opts.moduleArgs !== undefined ? { initArgs: opts.moduleArgs } : undefined);
    const token = module.findToken({ label: opts.tokenLabel, ...(opts.tokenSerial ? { serial: opts.tokenSerial } : {}), ...(opts.tokenSlot ? { slotId: opts.tokenSlot } : {}) });
    session = module.login({ label: token.label, serial: token.serialNumber, slotId: token.slotId }, pin);
    const key = findCosigningKey(session, opts.keyLabel);
    const spki = session.publicKeySpki(key);
    const keyid = keyidOf(spki);
    const named = `key '${key.label}' (keyid ${keyid})`;
    if (p.keyid !== undefined && p.keyid !== keyid)
      throw new OperationError(`${named} is not the key the plan registers for '${p.id}' (${p.keyid}); nothing was signed`);
    if (folder.statement.predicate.signers.some((x) => x.keyid === keyid))
      throw new OperationError(`${named} already signed this statement as a transcript signer; a co-signer signs with a key of their own`);
    if (folder.envelope.signatures.some((x) => x.keyid === keyid))
      throw new OperationError(`${named} has already co-signed this statement (as '${folder.cosigners.get(keyid)?.participant}'); nothing was signed`);
    const owner = participants.find((x) => x.keyid === keyid && x.id !== p.id);
    if (owner) throw new OperationError(`${named} is the key the plan registers for '${owner.id}', not '${p.id}'; nothing was signed`);
    let scheme;
    try {
      scheme = signatureSchemeOf(spki);
    } catch (err) {
      throw new OperationError(`${named} cannot co-sign: ${(err as Error).message} (EC P-256, EC P-384, RSA or Ed25519 keys only)`);
    }
    const sig = session.sign(key, scheme, folder.pae);
    if (!verifySignature(spki, folder.pae, sig)) throw new OperationError(`token '${token.label}' made a ${scheme} signature with ${named} that does not verify; nothing was signed`);
    const record: CosignatureRecord = {
      participant: p.id,
      role: p.role,
      spki: spki.toString('base64'),
      signedAt: (opts.now?.() ?? new Date()).toISOString(),
      token: { manufacturer: token.manufacturer, model: token.model, serialNumber: token.serialNumber },
    };
    appendCosignature(folder, keyid, sig, record);
    return {
      dir,
      kind,
      participant: p.id,
      role: p.role,
      keyid,
      signatures: folder.envelope.signatures.length + 1,
      cosignatures: folder.cosigners.size + 1,
      statementSha256: statementDigest(folder.envelope),
      recordFile: path.join(dir, 'cosignatures', `${keyid}.json`),
    };
  } catch (err) {
    if (err instanceof KeyriteError) throw err;
    throw new OperationError(`co-signing failed: ${String((err as Error)?.message ?? err).split('\n')[0]}`, { cause: err });
  } finally {
    endSession(session);
    try {
      module?.close();
    } catch {
      /* already closed */
    }
  }
}

