import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { OperationError } from '../errors.ts';
import { sha256Hex, writeNewFile } from '../util/files.ts';

export interface ExportFile {
  /** File name inside exports/<name>/. */
  name: string;
  data: Buffer | string;
}

export interface WrittenFile {
  /** Path relative to the bundle, with forward slashes (transcript and DSSE subject name). */
  path: string;
  sha256: string;
}

/**
 * Writes an export's files into BUNDLE/exports/<name>/, a folder that must not exist yet; every file
 * is opened exclusively, so nothing in a bundle is ever overwritten.
 */
export function writeExportFolder(bundleDir: string, exportName: string, files: ExportFile[]): WrittenFile[] {
  const dir = path.join(bundleDir, 'exports', exportName);
  mkdirSync(path.dirname(dir), { recursive: true });
  try {
    mkdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new OperationError(
      code === 'EEXIST' ? `export folder ${dir} already exists; Keyrite never overwrites an export` : `cannot create export folder ${dir} (${code})`,
    );
  }
  return files.map((f) => {
    writeNewFile(path.join(dir, f.name), f.data);
    return { path: `exports/${exportName}/${f.name}`, sha256: sha256Hex(f.data) };
  });
}

/** A value for a shell command line: bare when safe, single-quoted otherwise. */
export function shellArg(value: string): string {
  return /^[A-Za-z0-9._:/@=+,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A plan value for a README command, or a placeholder the operator must fill in. */
export function argOr(value: string | undefined, placeholder: string): string {
  return value === undefined ? `<${placeholder}>` : shellArg(value);
}

export interface ReadmeFacts {
  title: string;
  /** The bundle folder's name: the ceremony id (SPEC §3). */
  ceremonyId: string;
  exportName: string;
  kind: string;
  algorithm: string;
  rootLabel: string;
  rootAlgorithm: string;
  material: string;
  method: string;
  wrappingKeySha256: string;
  appVersion: string;
  /** True when the token zero-padded PKCS#8 material before RFC 5649 (SoftHSM 2.6). */
  zeroPadded: boolean;
  /** A rotation (docs/lifecycle.md): the material is a new version of the key the previous ceremony exported. */
  rotation?: Rotation;
}

export interface Rotation {
  /** The key version this ceremony made. */
  version: number;
  /** The ceremony whose key this is a new version of. */
  previousCeremonyId: string;
}

/** The lines a rotation's README puts before the command: which key this is a new version of. */
export function rotationLines(r: Rotation, how: string): string[] {
  return [
    `This is version ${r.version} of the key; it continues ceremony '${r.previousCeremonyId}'. Import it as a`,
    `new version of the SAME KMS key that holds the earlier versions (${how}), not as a new key.`,
    '',
  ];
}

/**
 * The online operator's first step (SPEC §4): check the whole bundle against the policy agreed for
 * this key before any key material is imported. The commands name this bundle.
 */
export function verifyFirst(f: Pick<ReadmeFacts, 'ceremonyId' | 'exportName'>): string[] {
  const bundle = shellArg(f.ceremonyId);
  return [
    'FIRST, verify the ceremony bundle. Do not import anything unless this prints VALID:',
    '',
    `  keyrite verify ${bundle} --policy policy.json`,
    '',
    `Run it from the folder that holds the bundle folder '${f.ceremonyId}' (this folder is`,
    `${f.ceremonyId}/exports/${f.exportName}/ inside it; from here: keyrite verify ../.. --policy policy.json).`,
    'policy.json is the policy agreed for this key before the ceremony: expected signers and',
    'co-signers, root algorithm and fingerprint, statement digest, and "rehearsal": false. A bundle',
    'that verifies without a policy still lists warnings; read them before going on.',
    '',
  ];
}

/** README.txt: what the folder holds, then the steps with the exact command. Plain ASCII, CRLF-free. */
export function readme(f: ReadmeFacts, steps: string[], files: string[]): string {
  const lines = [
    f.title,
    '='.repeat(f.title.length),
    '',
    `Export '${f.exportName}' (${f.kind}, ${f.algorithm}) written by Keyrite ${f.appVersion}.`,
    `Root key: '${f.rootLabel}' (${f.rootAlgorithm}); the wrapped material is ${f.material}.`,
    `Wrapped inside the HSM (${f.method}) under the KMS wrapping key with SPKI SHA-256`,
    `  ${f.wrappingKeySha256}`,
    'Check that this is the public key the KMS gave out for this import before running the command.',
    '',
    ...verifyFirst(f),
    'Files:',
    ...files.map((x) => `  ${x}`),
    '',
    'Import (run from this folder, on a machine that can reach the KMS):',
    '',
    ...steps.map((s) => (s ? `  ${s}` : '')),
    '',
  ];
  if (f.zeroPadded) {
    lines.push(
      'Note: the HSM zero-padded the PKCS#8 key to a multiple of 8 bytes before AES key wrap, so the',
      'unwrapped material is the DER followed by up to 7 zero bytes. Parsers that read one DER element',
      '(OpenSSL, Go, so Vault/OpenBao) ignore them; rehearse with a throwaway key before relying on',
      'another KMS accepting them. See docs/exports.md in Keyrite.',
      '',
    );
  }
  lines.push('The transcript (export.created) records the SHA-256 of every file in this folder.', '');
  return lines.join('\n');
}
