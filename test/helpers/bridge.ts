/**
 * `window.keyrite` for the renderer in plain Chromium: an init script gives the page one function
 * per API method (as preload.ts does in Electron), each forwarded through page.exposeBinding to the
 * REAL ipc.ts handlers in the test process (dispatch() validates arguments exactly as ipcMain does).
 * Every message is recorded in both directions, so a test can prove what the renderer never saw.
 *
 * The renderer build is served by page.route from dist/renderer under a made-up origin; any other
 * request is aborted and recorded.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { API_METHODS, type ApiEvent, type PrinterSummary } from '../../electron/api.ts';
import { dispatch, type HandlerDeps, type Handlers } from '../../electron/ipc.ts';
import type { SheetPrinter } from '../../electron/print.ts';
import { resolveAppFile } from '../../electron/security.ts';

export const APP_TEST_ORIGIN = 'http://keyrite.test';

export interface BridgeMessage {
  direction: 'to-main' | 'to-renderer';
  /** Method name, or "event" for a push from main. */
  channel: string;
  /** The JSON text that crossed. */
  payload: string;
}

export interface Bridge {
  messages: BridgeMessage[];
  /** Requests the page made outside the app's own files (should stay empty). */
  foreignRequests: string[];
  /** The emit() to give createHandlers. */
  emit(event: ApiEvent): void;
  /** Set once handlers exist (they need emit first). */
  attach(handlers: Handlers): void;
  /** Waits until every event pushed so far has been delivered to the page. */
  flush(): Promise<void>;
}

/** Installs the bridge and the file server on a page; call before page.goto. */
export async function installBridge(page: Page, rendererDir: string): Promise<Bridge> {
  const messages: BridgeMessage[] = [];
  const foreignRequests: string[] = [];
  let handlers: Handlers | undefined;
  let pending: Promise<unknown> = Promise.resolve();

  await page.route('**/*', async (route) => {
    const url = route.request().url();
    if (!url.startsWith(`${APP_TEST_ORIGIN}/`)) {
      foreignRequests.push(url);
      return route.abort('blockedbyclient');
    }
    // Same resolution (and traversal refusal) as the app:// protocol handler.
    const found = resolveAppFile(rendererDir, url.replace(APP_TEST_ORIGIN, 'app://keyrite'));
    if (!found || !existsSync(found.file)) return route.fulfill({ status: 404, body: 'not found' });
    return route.fulfill({ status: 200, contentType: found.mimeType, body: readFileSync(found.file) });
  });

  await page.exposeBinding('__keyriteCall', async (_source, method: string, argsJson: string) => {
    messages.push({ direction: 'to-main', channel: method, payload: argsJson });
    if (!handlers) throw new Error('bridge: handlers not attached');
    const result = await dispatch(handlers, method, JSON.parse(argsJson) as unknown[]);
    const out = JSON.stringify(result);
    messages.push({ direction: 'to-renderer', channel: method, payload: out });
    return out;
  });

  // A string, not a function, so no transpiler helper (e.g. tsx's __name) is needed in the page.
  await page.addInitScript({
    content: `(() => {
      const methods = ${JSON.stringify(API_METHODS)};
      const listeners = new Set();
      window.__keyriteListeners = listeners;
      const api = {};
      for (const m of methods) {
        api[m] = (...args) => {
          // Structured clone (Electron) keeps a trailing undefined; JSON would turn it into null.
          while (args.length && args[args.length - 1] === undefined) args.pop();
          return window.__keyriteCall(m, JSON.stringify(args)).then((s) => JSON.parse(s));
        };
      }
      api.onEvent = (l) => { listeners.add(l); return () => listeners.delete(l); };
      window.keyrite = Object.freeze(api);
    })();`,
  });

  return {
    messages,
    foreignRequests,
    emit(event) {
      const payload = JSON.stringify(event);
      messages.push({ direction: 'to-renderer', channel: 'event', payload });
      pending = pending
        .then(() =>
          page.evaluate((p) => {
            const w = window as unknown as { __keyriteListeners?: Set<(e: unknown) => void> };
            for (const l of w.__keyriteListeners ?? []) l(JSON.parse(p));
          }, payload),
        )
        .catch(() => undefined);
    },
    attach(h) {
      handlers = h;
    },
    flush: () => pending.then(() => undefined),
  };
}

/** The "test printer": records each sheet's HTML as if it were paper, and lists itself as the only printer. */
export interface TestPrinter extends SheetPrinter {
  sheets: { printer: string; html: string }[];
}

export const TEST_PRINTER: PrinterSummary = { name: 'test-printer', displayName: 'Test printer (e2e paper tray)', description: 'records sheets for the test', isDefault: true };

export function createTestPrinter(): TestPrinter {
  const sheets: { printer: string; html: string }[] = [];
  return {
    sheets,
    async listPrinters() {
      return [TEST_PRINTER];
    },
    // The e2e paper tray stands in for a checked local queue; real CUPS is tested in test/integration/printing-cups.test.ts.
    async checkPrinter(queue) {
      return { queue, deviceUri: 'file:/dev/null', checks: [{ name: 'queue', ok: queue === TEST_PRINTER.name, detail: 'the e2e test printer' }] };
    },
    async print(html, deviceName) {
      if (deviceName !== TEST_PRINTER.name) throw new Error(`no printer named ${deviceName}`);
      sheets.push({ printer: deviceName, html });
      return { jobId: sheets.length, spoolClean: true };
    },
    async printToPdf(_html, file) {
      throw new Error(`the test printer does not write PDFs (${path.basename(file)})`);
    },
  };
}

/** Builds the renderer with Vite's JS API into `outDir` (a private folder, so parallel runs never collide). */
export async function buildRenderer(outDir: string): Promise<string> {
  const { build } = await import('vite');
  await build({ configFile: path.resolve('vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  return outDir;
}

/**
 * main's dialogs, scripted by the test: each dialog the app opens takes the next answer the test
 * queued (a path, or null for "cancelled"). The page still never names a path: it asks main to
 * open a dialog and receives a handle, exactly as in Electron.
 */
export interface ScriptedDialogs extends NonNullable<HandlerDeps['dialogs']> {
  answer(...paths: (string | null)[]): void;
  /** Every dialog opened: its kind, title and (save dialogs) the suggested name. */
  asked: { kind: string; title: string; suggestion?: string }[];
}

export function createScriptedDialogs(): ScriptedDialogs {
  const queue: (string | null)[] = [];
  const asked: ScriptedDialogs['asked'] = [];
  const next = (kind: string, title: string, suggestion?: string) => {
    asked.push({ kind, title, ...(suggestion !== undefined ? { suggestion } : {}) });
    if (!queue.length) throw new Error(`test: no answer queued for the ${kind} dialog '${title}'`);
    return Promise.resolve(queue.shift()!);
  };
  return {
    asked,
    answer: (...paths) => void queue.push(...paths),
    chooseFile: (title, kind) => next(`file:${kind}`, title),
    chooseFolder: (title) => next('folder', title),
    chooseSaveFile: (title, suggestion) => next('save', title, suggestion),
  };
}
