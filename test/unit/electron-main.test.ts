/**
 * main.ts wiring, with `electron` replaced by a small fake: each test fails if main.ts stops
 * applying a security setting (window options, permission handler, navigation guard, request
 * filter, sender check, app:// scheme, DoH/proxy switches).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { API_METHODS, IPC_PREFIX } from '../../electron/api.ts';
import type { createFakeElectron } from '../helpers/fake-electron.ts';

const appPath = mkdtempSync(path.join(os.tmpdir(), 'keyrite-fake-app-'));
(globalThis as Record<string, unknown>).__keyriteFakeAppPath = appPath;

vi.mock('electron', async () => {
  const { createFakeElectron } = await import('../helpers/fake-electron.ts');
  const fake = createFakeElectron((globalThis as Record<string, unknown>).__keyriteFakeAppPath as string);
  (globalThis as Record<string, unknown>).__keyriteFake = fake;
  return fake.module;
});

type Fake = ReturnType<typeof createFakeElectron>;
let fake: Fake;

beforeAll(async () => {
  mkdirSync(path.join(appPath, 'dist', 'renderer'), { recursive: true });
  writeFileSync(path.join(appPath, 'dist', 'renderer', 'index.html'), '<!doctype html><title>Keyrite</title>');
  writeFileSync(path.join(appPath, 'secret.txt'), 'outside the renderer folder');
  const main = await import('../../electron/main.ts');
  await main.ready;
  fake = (globalThis as Record<string, unknown>).__keyriteFake as Fake;
});
afterAll(() => rmSync(appPath, { recursive: true, force: true }));

describe('main.ts before ready', () => {
  it('enables the sandbox for every renderer and turns off proxies and DNS-over-HTTPS', () => {
    expect(fake.calls.sandboxEnabled).toBe(true);
    expect(fake.calls.switches).toContainEqual(['no-proxy-server', undefined]);
    const features = fake.calls.switches.find(([n]) => n === 'disable-features')?.[1] ?? '';
    expect(features.split(',')).toContain('DnsOverHttps');
    expect(fake.calls.hostResolver).toMatchObject({ secureDnsMode: 'off' });
  });

  it('registers app:// as a standard, secure scheme that does not bypass CSP', () => {
    expect(fake.calls.privilegedSchemes).toEqual([
      expect.objectContaining({ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true, bypassCSP: false }) }),
    ]);
  });
});

describe('main window', () => {
  it('is created with hardened webPreferences, the preload, and DevTools off when packaged', () => {
    const win = fake.windows[0];
    const wp = win.options.webPreferences;
    expect(wp).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      devTools: false,
    });
    expect(wp.preload).toBe(path.join(appPath, 'dist', 'electron', 'preload.cjs'));
  });

  it('is protected from screenshots, recording and screen sharing (share words are typed there)', () => {
    expect(fake.windows[0].contentProtection).toBe(true);
  });

  it('loads the UI from app://, not file://', () => {
    expect(fake.windows[0].loaded).toEqual(['app://keyrite/index.html']);
  });

  it('guards navigation, new windows and webviews on every webContents', () => {
    const wc = fake.windows[0].webContents;
    for (const ev of ['will-navigate', 'will-frame-navigate', 'will-redirect', 'will-attach-webview']) {
      const prevent = vi.fn();
      wc.emit(ev, { preventDefault: prevent }, 'https://example.com/');
      expect(prevent, ev).toHaveBeenCalled();
    }
    expect(wc.windowOpenHandler?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
  });
});

describe('session', () => {
  it('denies every permission request and check', async () => {
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'hid', 'serial', 'usb', 'openExternal', 'fullscreen']) {
      const granted = await new Promise((resolve) => fake.calls.permissionRequest!({}, permission, resolve, {}));
      expect(granted, permission).toBe(false);
      expect(fake.calls.permissionCheck!({}, permission, 'app://keyrite', {}), permission).toBe(false);
    }
    expect(fake.calls.devicePermission!({ deviceType: 'usb' })).toBe(false);
  });

  it('cancels every request that is not app: (http, https, ws, file, ftp, devtools when packaged)', async () => {
    const decide = (url: string) => new Promise<{ cancel: boolean }>((resolve) => fake.calls.beforeRequest!({ url }, resolve));
    for (const url of ['https://example.com/', 'http://127.0.0.1:8080/', 'ws://localhost/', 'wss://x.test/', 'file:///etc/passwd', 'ftp://x.test/', 'devtools://devtools/bundled/x.html', 'chrome-extension://abc/x'])
      expect(await decide(url), url).toEqual({ cancel: true });
    expect(await decide('app://keyrite/assets/index.js')).toEqual({ cancel: false });
  });
});

describe('app:// protocol', () => {
  it('serves the renderer with the CSP header and refuses paths outside it', async () => {
    const handle = fake.calls.protocolHandlers.get('app')!;
    const res: Response = await handle({ url: 'app://keyrite/index.html' });
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("connect-src 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-src 'none'");
    expect(csp).toContain("default-src 'self'");
    for (const bad of ['app://keyrite/../secret.txt', 'app://keyrite/%2e%2e/secret.txt', 'app://other/index.html'])
      expect((await handle({ url: bad })).status, bad).toBe(404);
  });
});

describe('IPC', () => {
  it('registers one channel per API method and nothing else', () => {
    expect([...fake.calls.ipc.keys()].sort()).toEqual(API_METHODS.map((m) => `${IPC_PREFIX}${m}`).sort());
  });

  it('refuses calls from any page but the app, before looking at the arguments', async () => {
    const h = fake.calls.ipc.get(`${IPC_PREFIX}airgapStatus`)!;
    for (const url of ['https://evil.test/', 'file:///tmp/x.html', 'app://other/index.html', 'data:text/html,x']) {
      expect(await h({ senderFrame: { url, parent: null } }), url).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
    // A subframe of the app is not the app either.
    expect(await h({ senderFrame: { url: 'app://keyrite/index.html', parent: {} } })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await h({ senderFrame: null })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await h({ senderFrame: { url: 'app://keyrite/index.html', parent: null } })).toMatchObject({ ok: true });
  });

  it("writes a plan only where the user picks in main's save dialog, not at the path the page sends", async () => {
    const trusted = { senderFrame: { url: 'app://keyrite/index.html', parent: null } };
    const target = path.join(appPath, 'chosen-by-page.json');
    // A path from the page is not even a valid argument: the page suggests a bare file name.
    expect(await fake.calls.ipc.get(`${IPC_PREFIX}savePlan`)!(trusted, target, '{"version": 1}')).toMatchObject({ ok: false, error: { code: 'usage', message: expect.stringContaining('a file name without folders') } });
    const r = await fake.calls.ipc.get(`${IPC_PREFIX}savePlan`)!(trusted, 'chosen-by-page.json', '{"version": 1}');
    // The fake dialog is cancelled: nothing is written, whatever the page asked for.
    expect(r).toEqual({ ok: true, value: null });
    expect(existsSync(target)).toBe(false);
  });

  it('validates every argument with zod', async () => {
    const trusted = { senderFrame: { url: 'app://keyrite/index.html', parent: null } };
    const print = fake.calls.ipc.get(`${IPC_PREFIX}printSheet`)!;
    expect(await print(trusted, 0, { printer: 'x', extra: 1 })).toMatchObject({ ok: false, error: { code: 'usage' } });
    expect(await print(trusted, -1, { printer: 'x' })).toMatchObject({ ok: false, error: { code: 'usage' } });
    expect(await print(trusted, 0, { pdf: false })).toMatchObject({ ok: false, error: { code: 'usage' } });
    const login = fake.calls.ipc.get(`${IPC_PREFIX}login`)!;
    const r = await login(trusted, 12345);
    expect(r).toMatchObject({ ok: false, error: { code: 'usage' } });
    const tooMany = await fake.calls.ipc.get(`${IPC_PREFIX}airgapStatus`)!(trusted, 'extra');
    expect(tooMany).toMatchObject({ ok: false, error: { code: 'usage' } });
  });
});
