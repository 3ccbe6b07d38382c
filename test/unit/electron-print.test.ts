/**
 * print.ts with a fake BrowserWindow: the print window is hidden, sandboxed, has no preload, the
 * sheet gets a no-script CSP, the window is always destroyed (also on failure and timeout), and
 * PDF output never overwrites a file. Also the air-gap record and core-dump protection.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { airgapStatus } from '../../electron/airgap.ts';
import { createElectronPrinter, rehearsalPdfName, sheetDataUrl, type CupsAccess, type PrintWindowLike } from '../../electron/print.ts';
import { disableCoreDumps, isAllowedRequest, printWindowOptions } from '../../electron/security.ts';
import { summarizeEvent } from '../../electron/timeline.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'keyrite-print-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function fakeWindows(behaviour: { printOk?: boolean; hang?: boolean } = {}) {
  const made: { options: any; url?: string; destroyed: boolean; printed?: any }[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  const factory = (options: any): PrintWindowLike => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const rec = { options, destroyed: false } as (typeof made)[number];
    made.push(rec);
    return {
      async loadURL(url) {
        rec.url = url;
      },
      destroy() {
        rec.destroyed = true;
      },
      isDestroyed: () => rec.destroyed,
      webContents: {
        executeJavaScript: () => (behaviour.hang ? new Promise(() => {}) : Promise.resolve(true)),
        print(opts, cb) {
          rec.printed = opts;
          cb(behaviour.printOk ?? true, behaviour.printOk === false ? 'printer jammed' : '');
        },
        printToPDF: async () => Buffer.from('%PDF-1.4 fake'),
        getPrintersAsync: async () => [{ name: 'hp', displayName: 'HP LaserJet', description: 'office', options: { 'printer-is-default': 'true' } }] as never,
      },
    };
  };
  return { made, factory };
}

describe('print window', () => {
  it('is hidden, sandboxed, isolated, without preload or DevTools', () => {
    const o = printWindowOptions();
    expect(o.show).toBe(false);
    expect(o.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, webSecurity: true, devTools: false });
    expect(o.webPreferences?.preload).toBeUndefined();
  });

  /** A CUPS stand-in that keeps what it was sent (the real CUPS path: test/integration/printing-cups.test.ts). */
  function fakeCups() {
    const sent: { queue: string; pdf: Buffer; copy: string }[] = [];
    const cups: CupsAccess = {
      list: async () => [{ name: 'hp', displayName: 'hp', description: 'usb://HP/LaserJet', isDefault: false }],
      check: async (queue) => ({ queue, deviceUri: 'usb://HP/LaserJet', checks: [{ name: 'queue', ok: true, detail: 'ok' }] }),
      send: async (queue, pdf) => {
        sent.push({ queue, pdf, copy: pdf.toString('latin1') });
        return { jobId: 7, spoolClean: true, leftOver: [] };
      },
    };
    return { sent, cups };
  }

  it('renders the sheet to PDF in memory, hands it to CUPS, wipes the buffer, and destroys the window', async () => {
    const { made, factory } = fakeWindows();
    const { sent, cups } = fakeCups();
    const p = createElectronPrinter(factory, { cups });
    expect(await p.print('<html><head><title>s</title></head><body>words</body></html>', 'hp')).toEqual({ jobId: 7, spoolClean: true });
    expect(sent).toHaveLength(1);
    expect(sent[0].queue).toBe('hp');
    expect(sent[0].copy).toContain('%PDF');
    // The Buffer the PDF was in is zeroed once CUPS has it.
    expect(sent[0].pdf.every((b) => b === 0)).toBe(true);
    expect(made[0].printed).toBeUndefined();
    expect(made[0].destroyed).toBe(true);
    expect(made[0].options.webPreferences.preload).toBeUndefined();
    const html = Buffer.from(made[0].url!.split(',')[1], 'base64').toString('utf8');
    expect(html).toMatch(/<head><meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
  });

  it('reports a failed hand-over to CUPS and still destroys the window', async () => {
    const { made, factory } = fakeWindows();
    const { cups } = fakeCups();
    cups.send = async () => {
      throw new Error("printer 'hp' refused the sheet: printer jammed");
    };
    await expect(createElectronPrinter(factory, { cups }).print('<p>x</p>', 'hp')).rejects.toThrow(/refused the sheet: printer jammed/);
    expect(made[0].destroyed).toBe(true);
  });

  it('gives up after the timeout and destroys the window', async () => {
    const { made, factory } = fakeWindows({ hang: true });
    await expect(createElectronPrinter(factory, { timeoutMs: 50, cups: fakeCups().cups }).print('<p>x</p>', 'hp')).rejects.toThrow(/did not finish within/);
    expect(made[0].destroyed).toBe(true);
  });

  it('lists the CUPS queues and checks a queue through core/printing', async () => {
    const { factory } = fakeWindows();
    const p = createElectronPrinter(factory, { cups: fakeCups().cups });
    expect(await p.listPrinters()).toEqual([{ name: 'hp', displayName: 'hp', description: 'usb://HP/LaserJet', isDefault: false }]);
    expect((await p.checkPrinter('hp')).deviceUri).toBe('usb://HP/LaserJet');
  });

  it('writes rehearsal PDFs with REHEARSAL in the name and never overwrites one', async () => {
    const { factory } = fakeWindows();
    const p = createElectronPrinter(factory, { cups: fakeCups().cups });
    const file = path.join(tmp, 'pdf', rehearsalPdfName('share-1-1-c1'));
    expect(path.basename(file)).toBe('REHEARSAL-share-1-1-c1.pdf');
    expect(await p.printToPdf('<p>x</p>', file)).toBe(file);
    expect(readFileSync(file, 'utf8')).toContain('%PDF');
    await expect(p.printToPdf('<p>y</p>', file)).rejects.toThrow();
  });

  it('data: URLs carry the CSP even without a <head>', () => {
    const html = Buffer.from(sheetDataUrl('<p>x</p>').split(',')[1], 'base64').toString('utf8');
    expect(html.startsWith('<meta http-equiv="Content-Security-Policy"')).toBe(true);
  });
});

describe('network and process protection', () => {
  it('allows only app: and data: (devtools only when asked)', () => {
    expect(isAllowedRequest('app://keyrite/x.js')).toBe(true);
    expect(isAllowedRequest('data:image/png;base64,AA')).toBe(true);
    expect(isAllowedRequest('https://x.test')).toBe(false);
    expect(isAllowedRequest('devtools://devtools/x')).toBe(false);
    expect(isAllowedRequest('devtools://devtools/x', { devTools: true })).toBe(true);
  });

  it('zeroes coredump_filter for each process on Linux, and does nothing elsewhere', () => {
    const proc = path.join(tmp, 'proc');
    for (const pid of [11, 12]) {
      mkdirSync(path.join(proc, String(pid)), { recursive: true });
      writeFileSync(path.join(proc, String(pid), 'coredump_filter'), '33');
    }
    expect(disableCoreDumps([11, 12, 12, 99], { platform: 'linux', procRoot: proc, prlimit: null })).toEqual([11, 12]);
    expect(readFileSync(path.join(proc, '11', 'coredump_filter'), 'utf8')).toBe('0');
    expect(disableCoreDumps([11], { platform: 'darwin', procRoot: proc, prlimit: null })).toEqual([]);
    expect(existsSync(path.join(proc, '99'))).toBe(false);
  });

  it('reports each interface as up or down from os.networkInterfaces', () => {
    const s = airgapStatus({
      lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
      eth0: [{ address: '10.0.0.2', netmask: '255.255.255.0', family: 'IPv4', mac: 'aa:bb:cc:dd:ee:ff', internal: false, cidr: '10.0.0.2/24' }],
    });
    expect(s.online).toBe(true);
    expect(s.interfaces).toEqual([
      { name: 'eth0', internal: false, up: true, addresses: ['10.0.0.2/24'] },
      { name: 'lo', internal: true, up: false, addresses: ['127.0.0.1/8'] },
    ]);
    expect(airgapStatus({ lo: s.interfaces.length ? [{ address: '::1', netmask: 'ffff::', family: 'IPv6', mac: '', internal: true, cidr: '::1/128', scopeid: 0 }] : [] }).online).toBe(false);
  });

  it('timeline summaries use only named public fields', () => {
    const e = summarizeEvent({ v: 1, seq: 3, time: 't', type: 'share.confirmed', actor: 'c1', prev: '', data: { group: 1, member: 2, custodian: 'c1', checkValue: 'abcd', words: 'must not appear' } });
    expect(e.summary).toBe('Share of group 1, member 2 (c1) confirmed (check value abcd)');
    expect(JSON.stringify(e)).not.toContain('must not appear');
  });

  it('the printer check and a recovery read as sentences, not as bare event types', () => {
    const ev = (type: string, data: Record<string, unknown>) => summarizeEvent({ v: 1, seq: 1, time: 't', type: type as never, actor: 'system', prev: '', data }).summary;
    expect(ev('printer.checked', { queue: 'ceremony', deviceUri: 'usb://HP/LaserJet', checks: [{ name: 'local device', ok: true, detail: '' }, { name: 'no job files', ok: true, detail: '' }] }))
      .toBe("Printer 'ceremony' (usb://HP/LaserJet) checked: local device passed, no job files passed");
    expect(ev('recovery.share-accepted', { group: 1, member: 4, custodian: 'c4', checkValue: 'abcd', position: 2 })).toBe('Share 1-4 (c4) accepted (check value abcd)');
    expect(ev('recovery.kek-verified', { kcv: '1a2b3c', ok: true, shares: [] })).toBe('Shares combine to the backup key, KCV 1a2b3c passed');
    expect(ev('key.recovered', { label: 'acme-root', algorithm: 'ec-p384', token: { label: 'new-hsm', serialNumber: '42' } })).toBe("Root key 'acme-root' (ec-p384) restored into token 'new-hsm' (serial 42)");
    expect(ev('version.destroyed', { version: 2, label: 'k', objects: 2, remaining: 0, token: { label: 't', serialNumber: '9' } })).toBe("Version 2 ('k') destroyed on token 't' (serial 9): 2 object(s), 0 left");
  });
});
