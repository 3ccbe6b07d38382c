import type { PlanExport } from './target-schema.ts';
import { argOr, readme, rotationLines, shellArg, type ExportFile, type ReadmeFacts } from './bundle-files.ts';

type AwsExport = Extract<PlanExport, { kind: 'aws-kms' }>;

/** AWS KMS ImportKeyMaterial: the encrypted material, the import token as given, and the CLI command. */
export function awsKmsFiles(target: AwsExport, ciphertext: Buffer, importToken: Buffer, facts: ReadmeFacts): ExportFile[] {
  const rotation = facts.rotation;
  const command = [
    'aws kms import-key-material',
    `--key-id ${argOr(target.keyId, 'key-id')}`,
    '--encrypted-key-material fileb://EncryptedKeyMaterial.bin',
    '--import-token fileb://ImportToken.bin',
    '--expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE',
    // A rotation adds key material to the key (on-demand rotation of an imported symmetric key).
    ...(rotation ? ['--import-type NEW_KEY_MATERIAL'] : []),
    ...(target.region ? [`--region ${shellArg(target.region)}`] : []),
  ].join(' ');
  const region = target.region ? ` --region ${shellArg(target.region)}` : '';
  const steps = [
    ...(rotation
      ? [
          ...rotationLines(rotation, 'AWS KMS: new key material for the imported key, then an on-demand rotation'),
          'AWS KMS takes new material only into a single-Region symmetric key with EXTERNAL origin; an',
          'asymmetric or HMAC key keeps its first material forever (create a new KMS key for it instead).',
          '',
        ]
      : []),
    `The wrapping public key and import token must come from one GetParametersForImport call with`,
    `--wrapping-algorithm ${target.algorithm}; they are valid for 24 hours after download.`,
    '',
    command,
    ...(rotation ? ['', 'then make the new material current:', '', `aws kms rotate-key-on-demand --key-id ${argOr(target.keyId, 'key-id')}${region}`] : []),
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
