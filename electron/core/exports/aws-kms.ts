import type { PlanExport } from './target-schema.ts';
import { argOr, readme, shellArg, type ExportFile, type ReadmeFacts } from './bundle-files.ts';

type AwsExport = Extract<PlanExport, { kind: 'aws-kms' }>;

/** AWS KMS ImportKeyMaterial: the encrypted material, the import token as given, and the CLI command. */
export function awsKmsFiles(target: AwsExport, ciphertext: Buffer, importToken: Buffer, facts: ReadmeFacts): ExportFile[] {
  const command = [
    'aws kms import-key-material',
    `--key-id ${argOr(target.keyId, 'key-id')}`,
    '--encrypted-key-material fileb://EncryptedKeyMaterial.bin',
    '--import-token fileb://ImportToken.bin',
    '--expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE',
    ...(target.region ? [`--region ${shellArg(target.region)}`] : []),
  ].join(' ');
  const steps = [
    `The wrapping public key and import token must come from one GetParametersForImport call with`,
    `--wrapping-algorithm ${target.algorithm}; they are valid for 24 hours after download.`,
    '',
    command,
  ];
  return [
    { name: 'EncryptedKeyMaterial.bin', data: ciphertext },
    { name: 'ImportToken.bin', data: importToken },
    {
      name: 'README.txt',
      data: readme(facts, steps, ['EncryptedKeyMaterial.bin  the wrapped key material', 'ImportToken.bin           the import token, copied from the plan']),
    },
  ];
}
