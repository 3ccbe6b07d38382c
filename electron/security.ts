/**
 * The desktop app's security settings, as small functions that main.ts wires. They take the
 * Electron objects they configure as arguments (structural types), so unit tests drive them with
 * a fake and fail when a setting is removed or weakened. Nothing here imports `electron` at run time.
 * docs/desktop.md explains each setting.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserWindowConstructorOptions, CustomScheme } from 'electron';

export const APP_SCHEME = 'app';
export const APP_HOST = 'keyrite';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/** The renderer's Content-Security-Policy: its own files only, no connections, no frames or plugins. */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "object-src 'none'",
  "frame-src 'none'",
  "child-src 'none'",
  "worker-src 'none'",
  "media-src 'none'",
  "manifest-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** The print window's policy, set inside the sheet's HTML: inline styles and data: images only, no script. */
export const PRINT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:";

/** `app://` is standard (relative URLs, origin) and secure (like https), and nothing more. */
export const APP_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: {
    standard: true,
    secure: true,
    // ES modules are fetched in CORS mode even from their own origin; CSP still forbids connect-src.
    supportFetchAPI: true,
    corsEnabled: true,
    bypassCSP: false,
    allowServiceWorkers: false,
    stream: false,
    codeCache: false,
  },
};

type WebPreferences = NonNullable<BrowserWindowConstructorOptions['webPreferences']>;

/** Settings every window shares; tests check each one. */
export function hardenedWebPreferences(opts: { devTools: boolean; preload?: string }): WebPreferences {
  return {
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    spellcheck: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    devTools: opts.devTools,
    ...(opts.preload ? { preload: opts.preload } : {}),
  };
}

export function mainWindowOptions(opts: { isPackaged: boolean; preload: string }): BrowserWindowConstructorOptions {
  return {
    width: 1100,
    height: 860,
    minWidth: 800,
    minHeight: 600,
    show: false,
    backgroundColor: '#ffffff',
    title: 'Keyrite',
    autoHideMenuBar: true,
    webPreferences: hardenedWebPreferences({ devTools: !opts.isPackaged, preload: opts.preload }),
  };
}

/**
 * Custodians type their share words into the main window, so it is kept out of screenshots, screen
 * recording and screen sharing (Windows: WDA_EXCLUDEFROMCAPTURE; macOS: NSWindowSharingNone; Linux
 * compositors may ignore it). Not a constructor option in Electron, so main.ts calls this at creation.
 */
export function protectWindowContent(win: { setContentProtection(enable: boolean): void }): void {
  win.setContentProtection(true);
}

/** The print window: hidden, sandboxed, no preload, no DevTools, no script in the sheet. */
export function printWindowOptions(): BrowserWindowConstructorOptions {
  return {
    show: false,
    width: 800,
    height: 1100,
    webPreferences: { ...hardenedWebPreferences({ devTools: false }), javascript: true, images: true },
  };
}

// ---- permissions -------------------------------------------------------------------------------

export interface PermissionSessionLike {
  setPermissionRequestHandler(h: (wc: unknown, permission: string, callback: (granted: boolean) => void, details: unknown) => void): void;
  setPermissionCheckHandler(h: (wc: unknown, permission: string, origin: string, details: unknown) => boolean): void;
  setDevicePermissionHandler?(h: (details: unknown) => boolean): void;
}

/** Every permission (camera, notifications, HID, serial, clipboard, ...) is refused, asked or checked. */
export function denyAllPermissions(session: PermissionSessionLike): void {
  session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler?.(() => false);
}

// ---- navigation --------------------------------------------------------------------------------

export interface NavigationEventLike {
  preventDefault(): void;
}

export interface WebContentsLike {
  on(event: string, listener: (event: NavigationEventLike, ...args: unknown[]) => void): unknown;
  setWindowOpenHandler(h: (details: { url: string }) => { action: 'deny' } | { action: 'allow' }): void;
}

/** The app is one page: it never navigates, opens windows, or attaches webviews. */
export function guardNavigation(contents: WebContentsLike): void {
  for (const ev of ['will-navigate', 'will-frame-navigate', 'will-redirect', 'will-attach-webview']) {
    contents.on(ev, (event) => event.preventDefault());
  }
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

// ---- network -----------------------------------------------------------------------------------

/** Only the app's own files (and data: URLs, which never touch a network) may load. */
export function isAllowedRequest(url: string, opts: { devTools?: boolean } = {}): boolean {
  if (url.startsWith(`${APP_SCHEME}:`) || url.startsWith('data:')) return true;
  return Boolean(opts.devTools) && url.startsWith('devtools:');
}

export interface RequestSessionLike {
  webRequest: {
    onBeforeRequest(listener: (details: { url: string }, callback: (response: { cancel: boolean }) => void) => void): void;
  };
}

/** One filter over every request of the session: anything that is not app: is cancelled. */
export function blockNetwork(session: RequestSessionLike, opts: { devTools?: boolean; onBlocked?: (url: string) => void } = {}): void {
  session.webRequest.onBeforeRequest((details, callback) => {
    const allowed = isAllowedRequest(details.url, opts);
    if (!allowed) opts.onBlocked?.(details.url);
    callback({ cancel: !allowed });
  });
}

// ---- IPC sender --------------------------------------------------------------------------------

export interface IpcEventLike {
  senderFrame?: { url: string; parent?: unknown } | null;
}

/** An IPC call is answered only when it comes from the app's own top-level page. */
export function isTrustedSender(event: IpcEventLike): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.parent) return false;
  try {
    const u = new URL(frame.url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

// ---- process-wide switches ---------------------------------------------------------------------

export interface AppLike {
  enableSandbox(): void;
  commandLine: { appendSwitch(name: string, value?: string): void };
  configureHostResolver?(options: { secureDnsMode?: 'off' | 'automatic' | 'secure'; enableBuiltInResolver?: boolean; secureDnsServers?: string[] }): void;
}

/** Before `ready`: sandbox every renderer, no proxy (no PAC fetch, no WPAD), no DoH upgrade. */
export function hardenAppBeforeReady(app: AppLike): void {
  app.enableSandbox();
  app.commandLine.appendSwitch('no-proxy-server');
  app.commandLine.appendSwitch('disable-features', 'DnsOverHttps,AutofillServerCommunication,MediaRouter');
  app.commandLine.appendSwitch('disable-background-networking');
  app.commandLine.appendSwitch('disable-component-update');
  app.commandLine.appendSwitch('disable-domain-reliability');
}

/** After `ready`: the documented way to turn DNS-over-HTTPS off (`configureHostResolver`). */
export function hardenAppAfterReady(app: AppLike): void {
  app.configureHostResolver?.({ secureDnsMode: 'off', enableBuiltInResolver: false, secureDnsServers: [] });
}

// ---- core dumps --------------------------------------------------------------------------------

/**
 * Linux: keeps a crash of any of the app's processes from writing its memory (which may hold a PIN
 * or the KEK for a moment) to a core file. Electron has no API for this and we ship no native module,
 * so for each process id: /proc/<pid>/coredump_filter = 0 (no anonymous or file memory in a dump) and,
 * where util-linux's prlimit exists, RLIMIT_CORE = 0. The crash reporter is never started.
 * Returns the pids it could protect.
 */
export function disableCoreDumps(
  pids: number[],
  opts: { platform?: NodeJS.Platform; procRoot?: string; prlimit?: string | null } = {},
): number[] {
  if ((opts.platform ?? process.platform) !== 'linux') return [];
  const procRoot = opts.procRoot ?? '/proc';
  const prlimit = opts.prlimit === undefined ? ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p)) : opts.prlimit;
  const done: number[] = [];
  for (const pid of new Set(pids)) {
    try {
      writeFileSync(path.join(procRoot, String(pid), 'coredump_filter'), '0');
      if (prlimit) execFileSync(prlimit, ['--pid', String(pid), '--core=0:0'], { stdio: 'ignore' });
      done.push(pid);
    } catch {
      // The process may have ended already; nothing to protect then.
    }
  }
  return done;
}

// ---- app:// files ------------------------------------------------------------------------------

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json',
};

/** Maps app://keyrite/<path> to a file inside `root`; undefined for another host or a path outside root. */
export function resolveAppFile(root: string, url: string): { file: string; mimeType: string } | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return undefined;
  let rel: string;
  try {
    rel = decodeURIComponent(u.pathname);
  } catch {
    return undefined;
  }
  if (rel === '/' || rel === '') rel = '/index.html';
  const base = path.resolve(root);
  const file = path.resolve(base, `.${rel}`);
  if (file !== base && !file.startsWith(base + path.sep)) return undefined;
  const mimeType = MIME[path.extname(file).toLowerCase()];
  if (!mimeType) return undefined;
  return { file, mimeType };
}

/** Headers on every app:// response: the CSP and no sniffing. */
export function appResponseHeaders(mimeType: string): Record<string, string> {
  return {
    'content-type': mimeType,
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  };
}
