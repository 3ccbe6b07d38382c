import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { OperationError } from '../errors.ts';

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Writes a new file exclusively ('wx': never overwrites) and fsyncs it, creating its folder.
 * An existing file is an OperationError naming it.
 */
export function writeNewFile(file: string, data: Buffer | string, mode = 0o644): void {
  mkdirSync(path.dirname(file), { recursive: true });
  let fd: number;
  try {
    fd = openSync(file, 'wx', mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new OperationError(`${file} already exists; Keyrite never overwrites a file`);
    throw new OperationError(`cannot create ${file} (${code})`);
  }
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Creates a folder that must not exist yet (its parents may). */
export function makeNewDir(dir: string): void {
  mkdirSync(path.dirname(dir), { recursive: true });
  try {
    mkdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new OperationError(`output folder ${dir} already exists; a ceremony never overwrites a bundle`);
    throw new OperationError(`cannot create ${dir} (${code})`);
  }
}

export function toPem(der: Buffer, label = 'PUBLIC KEY'): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
