/**
 * A small stand-in for the `electron` module, enough for main.ts and print.ts to run under vitest
 * without Electron's binary. It records what the code under test configures, so tests can assert
 * each security setting and exercise the handlers main.ts installs.
 */
type Listener = (...args: any[]) => any; // eslint-disable-line @typescript-eslint/no-explicit-any

export class FakeEmitter {
  listeners = new Map<string, Listener[]>();
  on(ev: string, l: Listener) {
    this.listeners.set(ev, [...(this.listeners.get(ev) ?? []), l]);
    return this;
  }
  once(ev: string, l: Listener) {
    return this.on(ev, l);
  }
  emit(ev: string, ...args: unknown[]) {
    for (const l of this.listeners.get(ev) ?? []) l(...args);
  }
}

export class FakeWebContents extends FakeEmitter {
  windowOpenHandler?: Listener;
  sent: { channel: string; args: unknown[] }[] = [];
  setWindowOpenHandler(h: Listener) {
    this.windowOpenHandler = h;
  }
  send(channel: string, ...args: unknown[]) {
    this.sent.push({ channel, args });
  }
}

export function createFakeElectron(appPath: string) {
  const calls = {
    switches: [] as [string, string | undefined][],
    sandboxEnabled: false,
    hostResolver: undefined as unknown,
    privilegedSchemes: [] as unknown[],
    protocolHandlers: new Map<string, Listener>(),
    ipc: new Map<string, Listener>(),
    permissionRequest: undefined as Listener | undefined,
    permissionCheck: undefined as Listener | undefined,
    devicePermission: undefined as Listener | undefined,
    beforeRequest: undefined as Listener | undefined,
  };
  const windows: FakeBrowserWindow[] = [];

  class FakeBrowserWindow extends FakeEmitter {
    webContents = new FakeWebContents();
    loaded: string[] = [];
    destroyed = false;
    contentProtection = false;
    constructor(public options: any) { // eslint-disable-line @typescript-eslint/no-explicit-any
      super();
      windows.push(this);
      app.emit('web-contents-created', {}, this.webContents);
    }
    async loadURL(url: string) {
      this.loaded.push(url);
    }
    show() {}
    setContentProtection(enable: boolean) {
      this.contentProtection = enable;
    }
    isDestroyed() {
      return this.destroyed;
    }
    destroy() {
      this.destroyed = true;
    }
  }

  const app = Object.assign(new FakeEmitter(), {
    isPackaged: true,
    enableSandbox() {
      calls.sandboxEnabled = true;
    },
    commandLine: {
      appendSwitch(name: string, value?: string) {
        calls.switches.push([name, value]);
      },
    },
    configureHostResolver(opts: unknown) {
      calls.hostResolver = opts;
    },
    whenReady: () => Promise.resolve(),
    getAppPath: () => appPath,
    getAppMetrics: () => [] as { pid: number }[],
    quit() {},
  });

  const defaultSession = {
    setPermissionRequestHandler(h: Listener) {
      calls.permissionRequest = h;
    },
    setPermissionCheckHandler(h: Listener) {
      calls.permissionCheck = h;
    },
    setDevicePermissionHandler(h: Listener) {
      calls.devicePermission = h;
    },
    webRequest: {
      onBeforeRequest(h: Listener) {
        calls.beforeRequest = h;
      },
    },
  };

  const module = {
    app,
    BrowserWindow: FakeBrowserWindow,
    session: { defaultSession },
    protocol: {
      registerSchemesAsPrivileged(s: unknown[]) {
        calls.privilegedSchemes.push(...s);
      },
      handle(scheme: string, h: Listener) {
        calls.protocolHandlers.set(scheme, h);
      },
    },
    ipcMain: {
      handle(channel: string, h: Listener) {
        calls.ipc.set(channel, h);
      },
    },
    dialog: { showOpenDialog: async () => ({ canceled: true, filePaths: [] }), showSaveDialog: async () => ({ canceled: true, filePath: '' }) },
  };
  return { module, calls, windows };
}
