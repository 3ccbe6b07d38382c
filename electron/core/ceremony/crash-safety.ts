/**
 * Pieces of the ceremony's crash and fault handling that the engine uses: where a new bundle is
 * staged before it is published, and the "what to do next" that follows every stop.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, renameSync } from 'node:fs';
import path from 'node:path';
import { KeyriteError, OperationError } from '../errors.ts';
import { HsmError } from '../hsm/errors.ts';

/** A hidden sibling of the bundle folder; a crash before publishing leaves only this (no events, no keys). */
export function stagingDirFor(bundleDir: string): string {
  return path.join(path.dirname(bundleDir), `.${path.basename(bundleDir)}.partial-${randomBytes(4).toString('hex')}`);
}

/** Renames the staged folder to the bundle's name; never over an existing folder. */
export function publishBundle(staging: string, bundleDir: string): void {
  // rename(2) would silently replace an empty folder of the same name.
  if (existsSync(bundleDir)) throw new OperationError(`output folder ${bundleDir} appeared while the ceremony was starting; it is never overwritten`);
  renameSync(staging, bundleDir);
  let fd: number | undefined;
  try {
    fd = openSync(path.dirname(bundleDir), 'r');
    fsyncSync(fd);
  } catch {
    // Not possible on every platform; the rename itself is atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const quote = (p: string) => (/^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`);

/** The command that cleans up after a stopped ceremony. */
export function abortCommand(bundleDir: string): string {
  return `keyrite ceremony abort ${quote(bundleDir)}`;
}

export interface StopContext {
  bundleDir: string;
  tokenLabel?: string;
  /** Whether the transcript announced a key (key.generating): then objects may be on the token. */
  keysAnnounced: boolean;
  /** False when the failure came before the bundle folder was created. */
  bundleExists: boolean;
}

/**
 * One clause saying what to do after a stop, for the transcript and the error line, e.g.
 * "plug it back in, then run `keyrite ceremony abort B` to remove this ceremony's keys from it".
 */
export function stopAdvice(error: unknown, ctx: StopContext): string {
  const tok = ctx.tokenLabel !== undefined ? `token '${ctx.tokenLabel}'` : 'the token';
  let code: string | undefined;
  for (let e = error, depth = 0; e instanceof Error && depth < 5 && !code; e = e.cause, depth++) if (e instanceof HsmError) code = e.code;
  const lead: Partial<Record<string, string>> = {
    'device-removed': 'plug it back in, then ',
    'token-not-present': `insert ${tok}, then `,
    'session-closed': `check that ${tok} is connected, then `,
    'pin-locked': 'once the security officer has reset the PIN, ',
    'pin-incorrect': 'with the right PIN, ',
  };
  const first = (code && lead[code]) || '';
  if (!ctx.bundleExists) return first ? `${first}run the ceremony again (nothing was written or created yet)` : 'nothing was written or created yet';
  const cmd = abortCommand(ctx.bundleDir);
  if (!ctx.keysAnnounced) return `${first}run \`${cmd}\` to close the bundle (no key was created yet)`;
  return `${first}run \`${cmd}\` to remove this ceremony's keys from ${tok}`;
}

/** Appends the advice to a KeyriteError's one-line message (once), so every front end shows it. */
export function addAdvice(error: unknown, advice: string): void {
  if (!(error instanceof KeyriteError) || error.message.includes(advice)) return;
  error.message = `${error.message}: ${advice}`;
}
