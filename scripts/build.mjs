#!/usr/bin/env node
/**
 * Compiles the TypeScript that runs outside a browser, with esbuild (installed with Vite), so no
 * TypeScript compiler or transpile cache is needed at run time. `npm ci` runs it (`prepare`).
 *
 *   node scripts/build.mjs [cli] [main]     (no argument: both)
 *
 *   cli   dist/cli/keyrite.mjs + dist/cli/chunk-*.mjs   ESM, node; every command a chunk of its own,
 *         loaded on demand, so `keyrite --help` and `keyrite verify` never load the PKCS#11 code.
 *         npm packages are bundled (the digest recorded in each ceremony covers them) except
 *         graphene-pk11 and its native half pkcs11js, which load from node_modules.
 *   main  dist/electron/main.js (ESM; npm packages from node_modules/asar) and
 *         dist/electron/preload.cjs (CommonJS: a sandboxed preload can only require('electron')).
 *
 * Core modules find their resources relative to their own source file (import.meta.url); in a
 * bundle each module's import.meta.url is rewritten to the URL its source file has under the
 * package root, computed from where the bundle lies.
 */
import { readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Packages never bundled into the CLI, loaded from node_modules: native code, and playwright-core (it finds its own files at run time; used only to print sheets). */
export const CLI_EXTERNAL = ['graphene-pk11', 'pkcs11js', 'playwright-core'];

const sourceUrls = {
  name: 'keyrite-source-urls',
  setup(b) {
    b.onLoad({ filter: /\.tsx?$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const rel = path.relative(root, args.path).split(path.sep).join('/');
      return {
        contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, __keyriteAppRoot).href`),
        loader: args.path.endsWith('x') ? 'tsx' : 'ts',
      };
    });
  },
};

/** The banner of every output file: where the package root is, and a `require` for bundled CommonJS. */
function banner(rootFromOut, build) {
  return [
    "import { createRequire as __keyriteCreateRequire } from 'node:module';",
    'const require = __keyriteCreateRequire(import.meta.url);',
    `const __keyriteAppRoot = new URL(${JSON.stringify(rootFromOut)}, import.meta.url);`,
    `const __keyriteBuild = { kind: ${JSON.stringify(build)}, url: import.meta.url };`,
  ].join('\n');
}

export async function buildCli({ logLevel = 'warning' } = {}) {
  const { build } = await import('esbuild');
  const final = path.join(root, 'dist', 'cli');
  // Built beside and swapped in whole: a CLI already running from dist/cli (a test run in parallel)
  // never sees a half-written folder.
  const outdir = path.join(root, 'dist', `.cli-${process.pid}-${Date.now()}`);
  const old = `${outdir}-old`;
  const result = await build({
    absWorkingDir: root,
    entryPoints: { keyrite: path.join(root, 'electron', 'cli', 'keyrite.ts') },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    external: CLI_EXTERNAL,
    banner: { js: banner('../../', 'cli') },
    plugins: [sourceUrls],
    legalComments: 'none',
    logLevel,
  });
  await rename(final, old).catch((err) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await rename(outdir, final);
  await rm(old, { recursive: true, force: true });
  return result;
}

export async function buildMain({ logLevel = 'warning' } = {}) {
  const { build } = await import('esbuild');
  const outDir = path.join(root, 'dist', 'electron');
  await build({
    absWorkingDir: root,
    entryPoints: [path.join(root, 'electron', 'main.ts')],
    outfile: path.join(outDir, 'main.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    packages: 'external',
    external: ['electron'],
    sourcemap: true,
    banner: { js: banner('../../', 'app') },
    plugins: [sourceUrls],
    logLevel,
  });
  await build({
    absWorkingDir: root,
    entryPoints: [path.join(root, 'electron', 'preload.ts')],
    outfile: path.join(outDir, 'preload.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'chrome130',
    external: ['electron'],
    logLevel,
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const targets = process.argv.slice(2);
  const want = (t) => targets.length === 0 || targets.includes(t);
  const unknown = targets.filter((t) => t !== 'cli' && t !== 'main');
  if (unknown.length) {
    console.error(`build: unknown target '${unknown[0]}' (cli, main)`);
    process.exit(2);
  }
  const t0 = performance.now();
  try {
    await import('esbuild');
  } catch {
    console.error('keyrite: error: esbuild is not installed, so the CLI cannot be compiled: run `npm ci` with the dev dependencies (not --omit=dev)');
    process.exit(1);
  }
  if (want('cli')) await buildCli();
  if (want('main')) await buildMain();
  console.error(`build: ${targets.length ? targets.join(' ') : 'cli main'} compiled in ${Math.round(performance.now() - t0)} ms`);
}
