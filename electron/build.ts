/**
 * `npm run build:main`: bundles the main process and the preload with esbuild (installed with Vite).
 *   dist/electron/main.js     ESM, node platform; npm packages stay external (loaded from node_modules/asar)
 *   dist/electron/preload.cjs CommonJS: a sandboxed preload can only require('electron')
 * Core modules find their resources relative to their own source file (import.meta.url); in the bundle
 * each module's import.meta.url is rewritten to the URL its source file has under the app root.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist', 'electron');

const sourceUrls: Plugin = {
  name: 'keyrite-source-urls',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const rel = path.relative(root, args.path).split(path.sep).join('/');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, __keyriteAppRoot).href`), loader: 'ts' };
    });
  },
};

await build({
  entryPoints: [path.join(root, 'electron', 'main.ts')],
  outfile: path.join(outDir, 'main.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  external: ['electron'],
  sourcemap: true,
  banner: { js: "const __keyriteAppRoot = new URL('../../', import.meta.url);" },
  plugins: [sourceUrls],
  logLevel: 'info',
});

await build({
  entryPoints: [path.join(root, 'electron', 'preload.ts')],
  outfile: path.join(outDir, 'preload.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'chrome130',
  external: ['electron'],
  logLevel: 'info',
});
