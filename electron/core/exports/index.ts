/** KMS exports (docs/exports.md): one wrap primitive inside the token, one small file shaper per KMS kind. */
export { runExport, type ExportContext, type ExportCreated } from './run-export.ts';
export {
  preflightExports,
  assertExportsPreflight,
  isSoftHsm,
  type ExportsPreflightContext,
  type PreflightCheck,
} from './preflight.ts';
export { probeOaepHashes, rsaAesWrap, oaepWrap, METHOD_NATIVE, METHOD_TWO_STEP, METHOD_OAEP } from './rsa-aes-wrap.ts';
export { exportRequirement, algorithmName, type ExportRequirement } from './requirements.ts';
export { parseWrappingKey, type WrappingKey } from './wrapping-key.ts';
