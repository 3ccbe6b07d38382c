/**
 * Opaque handles for the files, folders and modules the user chose in main's dialogs (or from the
 * discovered module list). The renderer gets `{handle, name}` and hands the handle back; only main
 * maps it to a path, so no path the page makes up ever reaches `fs` or `dlopen`.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Chosen } from './api.ts';
import { UsageError } from './core/errors.ts';

export type HandleKind = 'plan' | 'folder' | 'module';

export class Handles {
  private readonly map = new Map<string, { kind: HandleKind; path: string }>();

  add(kind: HandleKind, file: string): Chosen {
    // The same path keeps its handle: a list refreshed twice gives the page the same values.
    for (const [handle, e] of this.map) if (e.kind === kind && e.path === file) return { handle, name: path.basename(file) || file };
    const handle = randomBytes(16).toString('hex');
    this.map.set(handle, { kind, path: file });
    return { handle, name: path.basename(file) || file };
  }

  /** The path behind a handle of this kind; anything else is refused in one line. */
  path(handle: string, kind: HandleKind, what: string): string {
    const e = this.map.get(handle);
    if (!e || e.kind !== kind) throw new UsageError(`${what}: choose it with the app's ${kind === 'module' ? 'module list or Browse button' : 'Browse button'} (the app opens only what was chosen there)`);
    return e.path;
  }
}
