/**
 * The renderer's build: renderer/ → dist/renderer, relative asset URLs so the same files load from
 * app://keyrite/ in Electron and from a local test server in the e2e tests. No dev-only network code.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('./renderer', import.meta.url));

/**
 * Writes the start screen's HTML into the built index.html (renderer/prerender.tsx), so the first
 * paint needs only the HTML and the CSS. Compiled with esbuild into node_modules/.cache (not a
 * shared temp folder) and imported once per build.
 */
function prerenderStartScreen(): Plugin {
  return {
    name: 'keyrite-prerender-start-screen',
    apply: 'build',
    async writeBundle(options) {
      const { build } = await import('esbuild');
      const cacheDir = fileURLToPath(new URL('./node_modules/.cache/keyrite-prerender/', import.meta.url));
      mkdirSync(cacheDir, { recursive: true });
      const out = path.join(cacheDir, `start-${process.pid}-${Date.now()}.mjs`);
      try {
        await build({
          entryPoints: [path.join(root, 'prerender.tsx')],
          outfile: out,
          bundle: true,
          platform: 'node',
          format: 'esm',
          jsx: 'automatic',
          external: ['react', 'react-dom', 'zustand'],
          loader: { '.css': 'empty' },
          define: { 'process.env.NODE_ENV': '"production"' },
          logLevel: 'warning',
        });
        const { renderStartScreen } = (await import(pathToFileURL(out).href)) as { renderStartScreen: () => string };
        const index = path.join(options.dir!, 'index.html');
        const html = readFileSync(index, 'utf8');
        if (!html.includes('<div id="root"></div>')) throw new Error('prerender: index.html has no empty #root');
        writeFileSync(index, html.replace('<div id="root"></div>', `<div id="root">${renderStartScreen()}</div>`));
      } finally {
        rmSync(out, { force: true });
      }
    },
  };
}

export default defineConfig({
  root,
  base: './',
  plugins: [react(), prerenderStartScreen()],
  build: {
    outDir: fileURLToPath(new URL('./dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'chrome130',
    // A small loader first (main.tsx), then React (boot.tsx); the other screens are chunks loaded
    // with import() from the app's own origin (script-src 'self'; connect-src stays 'none', so no
    // preload helper that fetches).
    modulePreload: false,
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: { host: '127.0.0.1' },
});
