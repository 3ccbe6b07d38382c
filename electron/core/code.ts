/**
 * Which software ran: the digest recorded as `ceremony.started.data.app.code`, so an auditor can
 * match a bundle with a published release (docs/desktop.md, "Checking the installed software").
 *
 * The digest is the SHA-256 of a `sha256sum` listing — one line `<hex sha256>  <path>` per file,
 * paths in byte order — of the files that make up the program:
 *   cli   dist/cli/*.mjs (the compiled CLI) and pkcs11js's native module, paths from the package folder
 *   app   app.asar and the unpacked native module, paths from the resources folder (packaged), or
 *         dist/electron + dist/renderer and the native module (an unpackaged `npm start`)
 *   source  electron/**\/*.ts run without a build (the tests, in-process)
 * so on Linux `LC_ALL=C sha256sum FILES | sha256sum` in that folder prints the same digest.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Set by the banner of each bundle scripts/build.mjs writes; absent when the TypeScript runs directly. */
declare const __keyriteBuild: { kind: 'cli' | 'app'; url: string } | undefined;

export interface CodeDigest {
  /** hex SHA-256 of the sha256sum listing of the files `what` names. */
  sha256: string;
  what: string;
}

export const NATIVE_MODULE = 'node_modules/pkcs11js/build/Release/pkcs11.node';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** The sha256sum listing of `files` (relative to `base`) and its digest. */
export function listingDigest(base: string, files: string[]): { listing: string; sha256: string } {
  const sorted = [...files].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const listing = sorted.map((f) => `${sha256(readFileSync(path.join(base, f)))}  ${f}\n`).join('');
  return { listing, sha256: sha256(listing) };
}

function walk(base: string, dir: string, keep: (f: string) => boolean): string[] {
  const out: string[] = [];
  if (!existsSync(path.join(base, dir))) return out;
  for (const e of readdirSync(path.join(base, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...walk(base, rel, keep));
    else if (e.isFile() && keep(rel)) out.push(rel);
  }
  return out;
}

/** pkcs11js's native module as installed beside graphene-pk11, relative to `base`, if it is there. */
function nativeModule(base: string): string | undefined {
  const direct = path.join(base, NATIVE_MODULE);
  if (existsSync(direct)) return NATIVE_MODULE;
  try {
    const req = createRequire(path.join(base, 'package.json'));
    const fromGraphene = createRequire(req.resolve('graphene-pk11'));
    const file = path.join(path.dirname(fromGraphene.resolve('pkcs11js/package.json')), 'build', 'Release', 'pkcs11.node');
    const rel = path.relative(base, file).split(path.sep).join('/');
    return existsSync(file) && !rel.startsWith('..') ? rel : undefined;
  } catch {
    return undefined;
  }
}

function describe(kind: string, base: string, files: string[], native: string | undefined, summary: string): CodeDigest {
  const all = native ? [...files, native] : files;
  const { sha256: digest } = listingDigest(base, all);
  return {
    sha256: digest,
    what: `${kind} ${summary}${native ? ` + pkcs11js ${native}` : ' (pkcs11js native module not found)'}; sha256 of the sha256sum listing of these ${all.length} files`,
  };
}

/** A packaged app: app.asar and what electron-builder unpacked beside it. */
function packagedApp(asarDir: string): CodeDigest {
  const resources = path.dirname(asarDir);
  const asar = path.basename(asarDir);
  const unpacked = `${asar}.unpacked/${NATIVE_MODULE}`;
  const native = existsSync(path.join(resources, unpacked)) ? unpacked : undefined;
  // Electron's fs reads an .asar as a folder; the digest is of the archive file itself.
  const proc = process as unknown as { noAsar?: boolean };
  const before = proc.noAsar;
  proc.noAsar = true;
  try {
    return describe('app', resources, [asar], native, `${asar} (in ${resources})`);
  } finally {
    proc.noAsar = before;
  }
}

/** The digest for a build of `kind` whose bundle is at `url` (undefined: the sources, unbuilt). */
export function codeDigestOf(build: { kind: 'cli' | 'app'; url: string } | undefined): CodeDigest {
  if (build?.kind === 'cli') {
    const root = fileURLToPath(new URL('../../', build.url));
    const files = readdirSync(path.join(root, 'dist', 'cli')).filter((f) => f.endsWith('.mjs')).map((f) => `dist/cli/${f}`);
    return describe('cli', root, files, nativeModule(root), `dist/cli/*.mjs (${files.length} files)`);
  }
  if (build?.kind === 'app') {
    const root = fileURLToPath(new URL('../../', build.url)).replace(/[\\/]$/, '');
    if (root.endsWith('.asar')) return packagedApp(root);
    const files = [...walk(root, 'dist/electron', (f) => !f.endsWith('.map')), ...walk(root, 'dist/renderer', () => true)];
    return describe('app', root, files, nativeModule(root), 'not packaged: dist/electron and dist/renderer');
  }
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const files = walk(root, 'electron', (f) => /\.tsx?$/.test(f));
  return describe('source', root, files, nativeModule(root), 'electron/**/*.ts run without a build (development, tests)');
}

function compute(): CodeDigest {
  return codeDigestOf(typeof __keyriteBuild === 'undefined' ? undefined : __keyriteBuild);
}

let cached: CodeDigest | undefined;

/** The digest of the code this process runs; computed once, when a ceremony or recovery starts. */
export function runningCode(): CodeDigest {
  if (!cached) {
    try {
      cached = compute();
    } catch (err) {
      // Never stops a ceremony; the transcript says plainly that the digest could not be taken.
      cached = { sha256: '', what: `unknown: the code digest could not be computed (${String((err as Error)?.message ?? err).split('\n')[0]})` };
    }
  }
  return cached;
}
