/**
 * The Electron main process: wiring only. Every setting comes from security.ts (unit-tested with a
 * fake `electron`), every operation from ipc.ts (driven by the e2e tests through the same handlers).
 * The crash reporter is never started; docs/desktop.md explains each choice.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, protocol, session, type WebContents } from 'electron';
import { EVENT_CHANNEL, type ApiEvent } from './api.ts';
import { coreVerify, createHandlers, registerIpc } from './ipc.ts';
import { createElectronPrinter } from './print.ts';
import {
  APP_INDEX_URL,
  APP_SCHEME,
  APP_SCHEME_PRIVILEGES,
  appResponseHeaders,
  blockNetwork,
  denyAllPermissions,
  disableCoreDumps,
  guardNavigation,
  hardenAppAfterReady,
  hardenAppBeforeReady,
  isTrustedSender,
  mainWindowOptions,
  protectWindowContent,
  resolveAppFile,
} from './security.ts';

hardenAppBeforeReady(app);
protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);

const protectProcesses = () => disableCoreDumps([process.pid, ...app.getAppMetrics().map((m: { pid: number }) => m.pid)]);

// Every webContents (main window, print windows, anything else) gets the navigation guard.
// Parameters typed here too: without desktop/ installed, tsc sees Electron through desktop/electron-types-absent.d.ts.
app.on('web-contents-created', (_event: unknown, contents: WebContents) => {
  guardNavigation(contents);
  contents.once('did-finish-load', protectProcesses);
});

app.on('window-all-closed', () => app.quit());

export const ready = app.whenReady().then(async () => {
  hardenAppAfterReady(app);
  const devTools = !app.isPackaged;
  denyAllPermissions(session.defaultSession);
  blockNetwork(session.defaultSession, { devTools, onBlocked: (url) => console.error(`keyrite: blocked a request to ${url.slice(0, 200)}`) });

  const root = app.getAppPath();
  const rendererDir = path.join(root, 'dist', 'renderer');
  protocol.handle(APP_SCHEME, async (request: Request) => {
    const found = resolveAppFile(rendererDir, request.url);
    if (!found) return new Response('not found', { status: 404 });
    try {
      return new Response(await readFile(found.file), { headers: appResponseHeaders(found.mimeType) });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });

  const win = new BrowserWindow(mainWindowOptions({ isPackaged: app.isPackaged, preload: path.join(root, 'dist', 'electron', 'preload.cjs') }));
  // Share words are typed here: no screenshots, recordings or screen sharing of this window.
  protectWindowContent(win);
  const emit = (event: ApiEvent) => {
    if (!win.isDestroyed()) win.webContents.send(EVENT_CHANNEL, event);
  };
  const handlers = createHandlers({
    printer: createElectronPrinter((options) => new BrowserWindow(options)),
    emit,
    dialogs: {
      async chooseFile(title, kind) {
        const filters = kind === 'plan' ? [{ name: 'Ceremony plan', extensions: ['json'] }] : [{ name: 'PKCS#11 module', extensions: ['so', 'dylib', 'dll'] }];
        const r = await dialog.showOpenDialog(win, { title, properties: ['openFile'], filters });
        return r.canceled ? null : (r.filePaths[0] ?? null);
      },
      async chooseFolder(title) {
        const r = await dialog.showOpenDialog(win, { title, properties: ['openDirectory', 'createDirectory'] });
        return r.canceled ? null : (r.filePaths[0] ?? null);
      },
      async chooseSaveFile(title, defaultPath) {
        // The renderer's file name is only the dialog's suggestion; ipc.ts checks what the user picks.
        const r = await dialog.showSaveDialog(win, {
          title,
          defaultPath: defaultPath || undefined,
          filters: [{ name: 'Ceremony plan', extensions: ['json'] }],
          properties: ['createDirectory', 'showOverwriteConfirmation'],
        });
        return r.canceled || !r.filePath ? null : r.filePath;
      },
    },
    verify: coreVerify,
  });
  registerIpc(ipcMain, handlers, isTrustedSender);

  win.once('ready-to-show', () => win.show());
  await win.loadURL(APP_INDEX_URL);
  protectProcesses();
  return win;
});
