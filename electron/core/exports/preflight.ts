import type { PlanFiles } from '../ceremony/plan-files.ts';
import type { PlanExport } from './target-schema.ts';
import { OperationError } from '../errors.ts';
import { CKM } from '../hsm/mechanisms.ts';
import type { KwpInfo, MechanismInfo, OaepHash, RootAlgorithm } from '../hsm/types.ts';
import { algorithmName, type ExportRequirement } from './requirements.ts';
import { checkExportTarget, labelled } from './target-rules.ts';
import type { WrappingKey } from './wrapping-key.ts';

/**
 * The exports' part of the preflight (docs/exports.md): everything that can be known before a key exists,
 * judged from the plan's files and the token's mechanism list only. A failing target stops the
 * ceremony before any key is generated. The plan-only rules (target-rules.ts) already ran when the
 * plan was loaded (exit 2); they run again here on the same pinned bytes (the plan's PlanFiles), so
 * what the preflight approves is exactly what the export wraps under.
 */

export interface PreflightCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ExportsPreflightContext {
  rootAlgorithm: RootAlgorithm;
  /** From HsmModule.mechanisms(). */
  mechanisms: MechanismInfo[];
  tokenLabel: string;
  /** TokenInfo.manufacturer: SoftHSM ("SoftHSM project") lists OAEP but does it with SHA-1 only. */
  tokenManufacturer?: string;
  /** From probeOaepHashes() once logged in: what the token really does, overriding the guess. */
  oaepHashes?: ReadonlySet<OaepHash>;
  /** From session.kwpMechanism() once logged in. */
  kwp?: KwpInfo;
}

const HASH_NAME: Record<OaepHash, string> = { sha1: 'SHA-1', sha256: 'SHA-256' };

export function isSoftHsm(manufacturer: string | undefined): boolean {
  return /softhsm/i.test(manufacturer ?? '');
}

/** OAEP hashes the token is taken to support, and whether that was tried or assumed. */
export function oaepHashesOf(ctx: ExportsPreflightContext): { hashes: ReadonlySet<OaepHash>; probed: boolean } {
  if (ctx.oaepHashes) return { hashes: ctx.oaepHashes, probed: true };
  if (isSoftHsm(ctx.tokenManufacturer)) return { hashes: new Set(['sha1']), probed: false };
  return { hashes: new Set(['sha1', 'sha256']), probed: false };
}

function hasMech(mechs: MechanismInfo[], type: number, flag?: string): boolean {
  return mechs.some((m) => m.type === type && (!flag || m.flags.length === 0 || m.flags.includes(flag)));
}

/**
 * The token-independent problems of a target (target-rules.ts, also run by the plan check), each a
 * phrase to follow "exports[i] name: ". Also returns the wrapping key when it parsed.
 */
export function planProblems(
  target: PlanExport,
  files: PlanFiles,
  root: RootAlgorithm,
): { problems: string[]; key?: WrappingKey; importToken?: Buffer; req: ExportRequirement } {
  const { problems, key, importToken, req } = checkExportTarget(target, files, root);
  return { problems: problems.map(labelled), key, importToken, req };
}

/** Plan problems plus what the token's mechanism list (and, after login, the OAEP probe) says. */
export function targetProblems(
  target: PlanExport,
  files: PlanFiles,
  ctx: ExportsPreflightContext,
): { problems: string[]; key?: WrappingKey; req: ExportRequirement; notes: string[] } {
  const root = ctx.rootAlgorithm;
  const { problems, key, req } = planProblems(target, files, root);
  const notes: string[] = [];
  const alg = algorithmName(target);
  const mechs = ctx.mechanisms;
  const tok = `token '${ctx.tokenLabel}'`;
  const native = hasMech(mechs, CKM.RSA_AES_KEY_WRAP, 'WRAP');
  if (!hasMech(mechs, CKM.RSA_PKCS_OAEP, 'WRAP') && !(req.form === 'rsa-aes' && native)) {
    problems.push(`${alg} needs CKM_RSA_PKCS_OAEP to wrap, which ${tok} does not offer`);
  } else {
    const { hashes, probed } = oaepHashesOf(ctx);
    if (!hashes.has(req.hash) && !(req.form === 'oaep' && root !== 'aes-256')) {
      const alt = req.sha1Alternative && hashes.has('sha1') ? `; ${req.sha1Alternative} would work` : '';
      problems.push(`${alg} needs RSA-OAEP with ${HASH_NAME[req.hash]}, which ${tok} does not support${alt}`);
    } else if (!probed && req.hash === 'sha256') {
      notes.push('SHA-256 OAEP is confirmed by a probe after login');
    }
  }
  if (req.form === 'rsa-aes' && !native) {
    if (!hasMech(mechs, CKM.AES_KEY_GEN))
      problems.push(`${alg} needs CKM_AES_KEY_GEN for the ephemeral AES key, which ${tok} does not offer`);
    if (!hasMech(mechs, CKM.AES_KEY_WRAP_KWP, 'WRAP') && !hasMech(mechs, CKM.AES_KEY_WRAP_PAD, 'WRAP'))
      problems.push(`${alg} needs CKM_AES_KEY_WRAP_KWP or CKM_AES_KEY_WRAP_PAD, which ${tok} does not offer`);
    else if (root !== 'aes-256' && (ctx.kwp ? ctx.kwp.zeroPadsInput : isSoftHsm(ctx.tokenManufacturer) && !hasMech(mechs, CKM.AES_KEY_WRAP_KWP)))
      notes.push('the token zero-pads the PKCS#8 key to a multiple of 8 bytes before RFC 5649 (see docs/exports.md)');
  }
  return { problems, key, req, notes };
}

/** One check per target that passes, one per problem of a target that does not. Never touches the token. */
export function preflightExports(
  plan: { exports: readonly PlanExport[] },
  loaded: { files: PlanFiles },
  ctx: ExportsPreflightContext,
): PreflightCheck[] {
  const checks: PreflightCheck[] = [];
  plan.exports.forEach((target, i) => {
    const where = `exports[${i}] ${target.name}`;
    const { problems, key, req, notes } = targetProblems(target, loaded.files, ctx);
    const name = `export ${target.name}`;
    if (problems.length) {
      for (const p of problems) checks.push({ name, ok: false, detail: `${where}: ${p}` });
      return;
    }
    const form = req.form === 'oaep' ? `RSA-OAEP-${HASH_NAME[req.hash]}` : `RSA-OAEP-${HASH_NAME[req.hash]} + AES-KWP`;
    checks.push({
      name,
      ok: true,
      detail: `${where}: ${target.kind} ${algorithmName(target)} (${form}) with RSA-${key!.bits} wrapping key ${target.wrappingKey}, sha256 ${key!.sha256.slice(0, 16)}…${notes.length ? `; ${notes.join('; ')}` : ''}`,
    });
  });
  return checks;
}

/** Throws an OperationError (exit 1) with the first failing export check; returns the checks otherwise. */
export function assertExportsPreflight(
  plan: { exports: readonly PlanExport[] },
  loaded: { files: PlanFiles },
  ctx: ExportsPreflightContext,
): PreflightCheck[] {
  const checks = preflightExports(plan, loaded, ctx);
  const failed = checks.filter((c) => !c.ok);
  if (failed.length) {
    const more = failed.length > 1 ? ` (and ${failed.length - 1} more export problem${failed.length > 2 ? 's' : ''})` : '';
    throw new OperationError(`${failed[0].detail}${more}`);
  }
  return checks;
}
