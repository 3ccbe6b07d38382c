/**
 * Reading a bundle without trusting it: every path is looked at part by part with lstat, so a
 * symbolic link anywhere is reported, never followed, and nothing outside the folder is read.
 */
import { lstatSync, readdirSync, readFileSync, type Dirent } from 'node:fs';
import path from 'node:path';
import { COSIGNATURES_DIR, ENVELOPE_FILE, RECOVERIES_DIR } from '../transcript/dsse.ts';

export const NO_LINKS = 'links in a bundle are never followed';

export type EntryKind = 'file' | 'dir' | 'link' | 'other' | 'missing';

/** What is at `rel` (a posix path) under `root`; a link on the way is reported as a link (at `at`). */
export function entryAt(root: string, rel: string): { kind: EntryKind; at: string } {
  const parts = rel.split('/');
  let cur = root;
  for (let i = 0; i < parts.length; i++) {
    cur = path.join(cur, parts[i]);
    const at = parts.slice(0, i + 1).join('/');
    let st;
    try {
      st = lstatSync(cur);
    } catch {
      return { kind: 'missing', at };
    }
    if (st.isSymbolicLink()) return { kind: 'link', at };
    if (i < parts.length - 1 && !st.isDirectory()) return { kind: 'missing', at };
    if (i === parts.length - 1) return { kind: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other', at };
  }
  return { kind: 'missing', at: rel };
}

/** The bytes of a regular file inside `root`, or undefined (missing, a folder, or reached through a link). */
export function readInside(root: string, rel: string): Buffer | undefined {
  if (entryAt(root, rel).kind !== 'file') return undefined;
  try {
    return readFileSync(path.join(root, ...rel.split('/')));
  } catch {
    return undefined;
  }
}

/** `name` as seen from the bundle: prefixed with the recovery folder's path when there is one. */
export function relName(ctx: { rel: string }, name: string): string {
  return ctx.rel ? `${ctx.rel}/${name}` : name;
}

/** Why `rel` could not be read as a file, for a detail line ("" when it is a regular file). */
export function notAFile(ctx: { rel: string }, root: string, rel: string): string {
  const e = entryAt(root, rel);
  if (e.kind === 'file') return '';
  if (e.kind === 'link') return `${relName(ctx, e.at)} is a symbolic link; ${NO_LINKS}`;
  if (e.kind === 'missing') return `${relName(ctx, rel)} is missing`;
  return `${relName(ctx, rel)} is not a regular file`;
}

/** A subject name must be a plain relative posix path inside the folder. */
export function isSafeRelativePath(name: string): boolean {
  if (name === '' || name.startsWith('/') || name.includes('\\') || name.includes('\0')) return false;
  return name.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

export function listDir(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** Names that are never subjects of a folder's statement (docs/transcript.md): the envelope, co-signatures, and in the bundle itself recoveries/. */
export function isOutsideStatement(name: string, isBundle: boolean): boolean {
  return name === ENVELOPE_FILE || name === COSIGNATURES_DIR || (isBundle && name === RECOVERIES_DIR);
}

/**
 * Every regular file under dir (posix names, sorted) but those outside the statement, the links
 * found and anything else found. Dirents come from lstat: a linked folder is a link, never entered.
 */
export function walkFolder(dir: string, isBundle: boolean): { files: string[]; others: string[]; links: string[] } {
  const files: string[] = [];
  const others: string[] = [];
  const links: string[] = [];
  const walk = (rel: string): void => {
    for (const e of listDir(rel ? path.join(dir, ...rel.split('/')) : dir)) {
      const name = rel ? `${rel}/${e.name}` : e.name;
      if (isOutsideStatement(name, isBundle)) continue;
      if (e.isSymbolicLink()) links.push(name);
      else if (e.isDirectory()) walk(name);
      else if (e.isFile()) files.push(name);
      else others.push(name);
    }
  };
  walk('');
  return { files: files.sort(), others, links };
}

/** plan.json of the bundle as JSON, or why it cannot be had. */
export function readPlan(dir: string): { json?: unknown; error?: string } {
  const bytes = readInside(dir, 'plan.json');
  if (!bytes) return { error: notAFile({ rel: '' }, dir, 'plan.json') };
  try {
    return { json: JSON.parse(bytes.toString('utf8')) };
  } catch {
    return { error: 'plan.json is not JSON' };
  }
}
