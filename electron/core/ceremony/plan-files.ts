import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';

/**
 * The files a plan names (wrapping keys, import tokens), read once (docs/plan.md). A plan is reviewed and
 * signed off as it stands, so what it pins must be what is used: each file is read a single time at
 * plan load, its digest checked against the plan, and every later step (preflight, wrap, the copy of
 * the import token into the bundle) uses those bytes from memory. A file swapped on disk after
 * load changes nothing.
 *
 * A plan may not reach outside its own folder: a path is relative, has no ".." segment, passes
 * through no symbolic link (every component is lstat'ed, the file itself opened with O_NOFOLLOW), and
 * names a regular file of at most 1 MiB. Otherwise a plan could carry any readable file of the
 * offline machine into the bundle (the import token is copied there) and so out of the air gap.
 */

/** The largest file a plan may name: KMS wrapping keys and import tokens are a few KiB. */
export const MAX_PLAN_FILE_BYTES = 1024 * 1024;

export type PlanFileRead = { ok: true; bytes: Buffer; sha256: string } | { ok: false; problem: string };

export interface PlanFiles {
  /** The plan's folder. */
  readonly dir: string;
  /**
   * The file's bytes as first read, or why it cannot be used (a phrase that follows the path, e.g.
   * "does not exist"). Once sealed, a path that was not read at load is refused, never read.
   */
  get(rel: string): PlanFileRead;
  /** After plan load: no more reading from disk. */
  seal(): void;
}

/** Why `rel` may not be used as a plan path, or undefined. Checks the text only. */
export function planPathProblem(rel: string): string | undefined {
  if (rel.includes('\0')) return 'is not a valid path';
  if (path.isAbsolute(rel) || path.win32.isAbsolute(rel) || /^[A-Za-z]:/.test(rel))
    return "is an absolute path; paths in a plan are relative to the plan's folder";
  if (rel.split(/[\\/]+/).includes('..')) return "leaves the plan's folder ('..'); paths in a plan stay inside the plan's folder";
  return undefined;
}

/** Reads one plan file under every rule above; never throws for anything a plan can contain. */
export function readInsidePlanFolder(dir: string, rel: string): PlanFileRead {
  const bad = planPathProblem(rel);
  if (bad) return { ok: false, problem: bad };
  const parts = rel.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (parts.length === 0) return { ok: false, problem: 'is not a file' };
  // Each component below the plan's folder, the file included, must be no link.
  let at = dir;
  for (let i = 0; i < parts.length; i++) {
    at = path.join(at, parts[i]);
    let st;
    try {
      st = lstatSync(at);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
      return { ok: false, problem: code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : `cannot be read (${code})` };
    }
    if (st.isSymbolicLink())
      return { ok: false, problem: `${i === parts.length - 1 ? 'is' : `goes through '${parts.slice(0, i + 1).join('/')}', which is`} a symbolic link; a plan's files may not be links` };
    if (i < parts.length - 1 && !st.isDirectory()) return { ok: false, problem: 'does not exist' };
  }
  let fd: number;
  try {
    fd = openSync(at, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    if (code === 'ELOOP') return { ok: false, problem: "is a symbolic link; a plan's files may not be links" };
    return { ok: false, problem: code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { ok: false, problem: 'is not a file' };
    if (st.size > MAX_PLAN_FILE_BYTES) return { ok: false, problem: `is ${st.size} bytes; a plan's files may be at most 1 MiB (${MAX_PLAN_FILE_BYTES} bytes)` };
    // Read at most one byte past the limit: a file that grows while being read is refused too.
    const buf = Buffer.alloc(MAX_PLAN_FILE_BYTES + 1);
    let n = 0;
    for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += r;
    if (n > MAX_PLAN_FILE_BYTES) return { ok: false, problem: `is over 1 MiB; a plan's files may be at most 1 MiB (${MAX_PLAN_FILE_BYTES} bytes)` };
    if (n === 0) return { ok: false, problem: 'is empty' };
    const bytes = Buffer.from(buf.subarray(0, n));
    return { ok: true, bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
  } catch (err) {
    return { ok: false, problem: `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unknown'})` };
  } finally {
    closeSync(fd);
  }
}

/** A reader for one plan's folder: each path is read at most once; later gets return the same bytes. */
export function planFiles(dir: string): PlanFiles {
  const cache = new Map<string, PlanFileRead>();
  let sealed = false;
  return {
    dir,
    get(rel) {
      const hit = cache.get(rel);
      if (hit) return hit;
      if (sealed) return { ok: false, problem: 'was not read when the plan was loaded' };
      const got = readInsidePlanFolder(dir, rel);
      cache.set(rel, got);
      return got;
    },
    seal() {
      sealed = true;
    },
  };
}
