/**
 * The renderer's build: renderer/ → dist/renderer, relative asset URLs so the same files load from
 * app://keyrite/ in Electron and from a local test server in the e2e tests. No dev-only network code.
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('./renderer', import.meta.url));

export default defineConfig({
  root,
  base: './',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('./dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'chrome130',
    // The start screen's script first; the other screens are chunks loaded with import() from the
    // app's own origin (script-src 'self'; connect-src stays 'none', so no preload helper that fetches).
    modulePreload: false,
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: { host: '127.0.0.1' },
});
