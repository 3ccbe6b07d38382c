/**
 * Reading a file the user chose in the app: no symbolic links (at the end of the path), regular
 * files only, at most MAX_PLAN_BYTES, and a file that is not a ceremony plan is refused without
 * quoting any of its bytes (a JSON error message or a schema problem would echo them to the page).
 */
import { closeSync, constants as fsConstants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { UsageError } from './core/errors.ts';

export const MAX_PLAN_BYTES = 1 << 20;

const shown = (p: string): string => (/[\u0000-\u001f\u007f]/.test(p) ? JSON.stringify(p) : p);

/** The file's bytes, read once through a descriptor opened without following a link. */
export function readChosenFile(file: string, max = MAX_PLAN_BYTES): Buffer {
  let st;
  try {
    st = lstatSync(file);
  } catch (err) {
    throw new UsageError(`${shown(file)} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unknown'})`);
  }
  if (st.isSymbolicLink()) throw new UsageError(`${shown(file)} is a symbolic link; choose the file itself`);
  if (!st.isFile()) throw new UsageError(`${shown(file)} is not a regular file`);
  let fd: number | undefined;
  try {
    fd = openSync(file, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0) | (fsConstants.O_NONBLOCK ?? 0));
    const size = fstatSync(fd).size;
    if (size > max) throw new UsageError(`${shown(file)} is ${size} bytes; a plan is at most ${max} bytes`);
    const buf = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${shown(file)} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unknown'})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Refuses, without quoting it, a file that is not a ceremony plan: not UTF-8 JSON, or JSON without
 * the shape every plan has (`version` 1, a string `id`, a `participants` list). A file that has that
 * shape is a plan, and its problems are listed by the plan check as usual.
 */
export function assertLooksLikePlan(file: string, bytes: Buffer): void {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new UsageError(`${shown(file)} is not a ceremony plan (not a JSON file)`);
  }
  const o = raw as { version?: unknown; id?: unknown; participants?: unknown } | null;
  if (!o || typeof o !== 'object' || Array.isArray(o) || o.version !== 1 || typeof o.id !== 'string' || !Array.isArray(o.participants))
    throw new UsageError(`${shown(file)} is not a ceremony plan (a plan is a JSON object with "version": 1, an "id" and "participants")`);
}
