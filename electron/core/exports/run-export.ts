import path from 'node:path';
import type { PlanFiles } from '../ceremony/plan-files.ts';
import type { PlanExport } from './target-schema.ts';
import { OperationError } from '../errors.ts';
import { HsmError } from '../hsm/errors.ts';
import type { HsmSession, RootAlgorithm, RootKey, TokenInfo } from '../hsm/types.ts';
import type { EventData } from '../transcript/events.ts';
import { awsKmsFiles } from './aws-kms.ts';
import { azureByokFiles } from './azure-byok.ts';
import { writeExportFolder, type ExportFile, type ReadmeFacts, type Rotation } from './bundle-files.ts';
import { gcpKmsFiles } from './gcp-kms.ts';
import { planProblems } from './preflight.ts';
import { algorithmName, materialName } from './requirements.ts';
import { oaepWrap, rsaAesWrap, withWrappingKey, type WrapResult } from './rsa-aes-wrap.ts';
import { vaultTransitFiles } from './vault-transit.ts';

export interface ExportContext {
  /** The plan's files (wrappingKey, importToken) as read and digest-checked once at plan load. */
  files: PlanFiles;
  bundleDir: string;
  rootAlgorithm: RootAlgorithm;
  rootLabel: string;
  appVersion: string;
  /** A rotation: the README gives each KMS's command for a new version of the same key. */
  rotation?: Rotation;
  /** For the .byok generator field; defaults to session.token. */
  token?: Pick<TokenInfo, 'manufacturer' | 'model' | 'firmware'>;
}

export type ExportCreated = EventData['export.created'];

/**
 * Wraps the root key for one KMS target inside the token and writes BUNDLE/exports/<name>/.
 * Returns the data of the export.created event; the engine appends it. The plan's files are checked
 * again here (the preflight already did) on the bytes pinned at plan load: a wrapping key or import
 * token swapped on disk since then is never read, so the root goes out only under the pinned key.
 */
export function runExport(session: HsmSession, root: RootKey, target: PlanExport, ctx: ExportContext): { eventData: ExportCreated } {
  const where = `export ${target.name}`;
  const { problems, key, importToken, req } = planProblems(target, ctx.files, ctx.rootAlgorithm);
  if (problems.length || !key) throw new OperationError(`${where}: ${problems[0] ?? 'wrapping key cannot be read'}`);
  if (target.kind === 'aws-kms' && !importToken) throw new OperationError(`${where}: import token cannot be read`);

  let wrap: WrapResult;
  try {
    wrap = withWrappingKey(session, key.spki, `keyrite-kms-${target.name}`, (kmsKey) =>
      req.form === 'oaep' ? oaepWrap(session, kmsKey, root.key, req.hash) : rsaAesWrap(session, kmsKey, root.key, req.hash),
    );
  } catch (err) {
    if (err instanceof HsmError) throw new HsmError(err.code, `${where}: ${err.message}`, { ckr: err.ckr, cause: err });
    throw err;
  }

  const algorithm = algorithmName(target);
  const zeroPadded = ctx.rootAlgorithm !== 'aes-256' && !!wrap.kwp?.zeroPadsInput;
  const facts: ReadmeFacts = {
    title: `Keyrite export '${target.name}' for ${KIND_TITLES[target.kind]}`,
    ceremonyId: path.basename(ctx.bundleDir),
    exportName: target.name,
    kind: target.kind,
    algorithm,
    rootLabel: ctx.rootLabel,
    rootAlgorithm: ctx.rootAlgorithm,
    material: materialName(ctx.rootAlgorithm),
    method: wrap.method,
    wrappingKeySha256: key.sha256,
    appVersion: ctx.appVersion,
    zeroPadded,
    rotation: ctx.rotation,
  };
  let files: ExportFile[];
  switch (target.kind) {
    case 'aws-kms':
      files = awsKmsFiles(target, wrap.ciphertext, importToken!, facts);
      break;
    case 'gcp-kms':
      files = gcpKmsFiles(target, wrap.ciphertext, ctx.rootAlgorithm, facts);
      break;
    case 'azure-byok':
      files = azureByokFiles(target, wrap.ciphertext, ctx.rootAlgorithm, ctx.appVersion, ctx.token ?? session.token, facts);
      break;
    case 'vault-transit':
      files = vaultTransitFiles(target, wrap.ciphertext, facts);
      break;
  }
  const written = writeExportFolder(ctx.bundleDir, target.name, files);
  return {
    eventData: {
      target: target.name,
      kind: target.kind,
      algorithm,
      wrappingKeySha256: key.sha256,
      method: wrap.method,
      files: written,
      oaepHash: req.hash === 'sha1' ? 'SHA-1' : 'SHA-256',
      ...(wrap.kwp
        ? { kwp: { mechanism: wrap.kwp.mechanism, mechanismType: '0x' + wrap.kwp.mechanismType.toString(16).padStart(8, '0'), zeroPadsInput: wrap.kwp.zeroPadsInput } }
        : {}),
    },
  };
}

const KIND_TITLES: Record<PlanExport['kind'], string> = {
  'aws-kms': 'AWS KMS',
  'gcp-kms': 'Google Cloud KMS',
  'azure-byok': 'Azure Key Vault (BYOK)',
  'vault-transit': 'Vault / OpenBao Transit',
};
