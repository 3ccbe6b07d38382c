import type { PlanExport } from './target-schema.ts';
import type { RootAlgorithm } from '../hsm/types.ts';
import { argOr, readme, rotationLines, shellArg, type ExportFile, type ReadmeFacts } from './bundle-files.ts';
import { GCP_VERSION_ALGORITHMS } from './requirements.ts';

type GcpExport = Extract<PlanExport, { kind: 'gcp-kms' }>;

/** Cloud KMS import: the wrapped key for an import job of the plan's method, and the gcloud command. */
export function gcpKmsFiles(target: GcpExport, ciphertext: Buffer, root: RootAlgorithm, facts: ReadmeFacts): ExportFile[] {
  const command = [
    'gcloud kms keys versions import',
    `--import-job ${argOr(target.importJob, 'import-job')}`,
    `--location ${argOr(target.location, 'location')}`,
    `--keyring ${argOr(target.keyRing, 'key-ring')}`,
    `--key ${argOr(target.key, 'key')}`,
    `--algorithm ${shellArg(target.keyAlgorithm ?? GCP_VERSION_ALGORITHMS[root])}`,
    '--wrapped-key-file wrapped-key.bin',
  ].join(' ');
  const steps = [
    ...(facts.rotation ? rotationLines(facts.rotation, 'Cloud KMS: a new key version through an import job') : []),
    `The import job's method must be ${target.algorithm} and its public key the wrapping key above.`,
    '',
    command,
    ...(facts.rotation
      ? [
          '',
          'Cloud KMS numbers the new version itself. For a symmetric key, make it the primary version:',
          '',
          `gcloud kms keys update ${argOr(target.key, 'key')} --location ${argOr(target.location, 'location')} --keyring ${argOr(target.keyRing, 'key-ring')} --primary-version <new-version-number>`,
        ]
      : []),
  ];
  return [
    { name: 'wrapped-key.bin', data: ciphertext },
    { name: 'README.txt', data: readme(facts, steps, ['wrapped-key.bin  the wrapped key material']) },
  ];
}
