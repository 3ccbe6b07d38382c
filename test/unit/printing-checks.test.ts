/**
 * The parts of core/printing that decide without asking CUPS: which devices and servers are local,
 * which Preserve… values keep nothing, lpoptions parsing, where the spool is, and which spool files
 * belong to a job (on a real folder, listable or search-only).
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deviceIsLocal, keepsNothing, serverIsLocal, spoolDirFor } from '../../electron/core/printing/index.ts';
import { parseLpoptions } from '../../electron/core/printing/cups.ts';
import { jobFilesInSpool } from '../../electron/core/printing/print-job.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'keyrite-printing-unit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('printer checks', () => {
  it('accepts only usb:, parallel:, serial: and exactly file:/dev/null as local devices', () => {
    for (const u of ['usb://HP/LaserJet%20M404?serial=X', 'parallel:/dev/lp0', 'serial:/dev/ttyS0?baud=9600', 'file:/dev/null']) expect(deviceIsLocal(u), u).toBe(true);
    for (const u of ['ipp://10.0.0.1/ipp/print', 'ipps://p/ipp', 'socket://10.0.0.1:9100', 'lpd://h/q', 'dnssd://x', 'file:///dev/null', 'file:/tmp/out.pdf', 'hp:/net/x', '', 'usb']) expect(deviceIsLocal(u), u).toBe(false);
  });

  it('treats only sockets and loopback addresses as this machine', () => {
    for (const s of ['/run/cups/cups.sock', 'localhost:631', '127.0.0.1:46311', '[::1]:631', 'localhost']) expect(serverIsLocal(s), s).toBe(true);
    for (const s of ['printserver:631', '10.0.0.5:631', 'cups.example.com', '[fe80::1]:631']) expect(serverIsLocal(s), s).toBe(false);
  });

  it('reads PreserveJobFiles/History values as CUPS does: No, Off, false, 0 keep nothing', () => {
    for (const v of ['No', 'no', 'Off', 'false', '0', '0s']) expect(keepsNothing(v), v).toBe(true);
    for (const v of ['Yes', 'On', 'true', '86400', '86400 (the CUPS default)', '1d', '']) expect(keepsNothing(v), v).toBe(false);
  });

  it('parses lpoptions output with quoted values', () => {
    const m = parseLpoptions("copies=1 device-uri=file:/dev/null printer-is-accepting-jobs=true printer-location printer-make-and-model='Local Raw Printer' x=\"a b\" y=c\\ d");
    expect(m.get('device-uri')).toBe('file:/dev/null');
    expect(m.get('printer-is-accepting-jobs')).toBe('true');
    expect(m.get('printer-make-and-model')).toBe('Local Raw Printer');
    expect(m.get('printer-location')).toBe('');
    expect(m.get('x')).toBe('a b');
    expect(m.get('y')).toBe('c d');
  });

  it('finds the spool in cups-files.conf under CUPS_SERVERROOT, else /var/spool/cups', () => {
    const root = path.join(tmp, 'root');
    mkdirSync(root);
    expect(spoolDirFor({ CUPS_SERVERROOT: root })).toBe('/var/spool/cups');
    writeFileSync(path.join(root, 'cups-files.conf'), 'ServerRoot /x\n  RequestRoot /srv/spool  \nFileDevice Yes\n');
    expect(spoolDirFor({ CUPS_SERVERROOT: root })).toBe('/srv/spool');
  });
});

describe('spool files of a job', () => {
  it("lists a job's record and documents, and no other job's", () => {
    const spool = path.join(tmp, 'spool');
    mkdirSync(spool);
    for (const n of ['c00007', 'd00007-001', 'd00007-002', 'c00070', 'd00017-001', 'c00007.tmp', 'tmp']) writeFileSync(path.join(spool, n), 'x');
    expect(jobFilesInSpool(spool, 7).sort()).toEqual(['c00007', 'd00007-001', 'd00007-002']);
    expect(jobFilesInSpool(spool, 8)).toEqual([]);
    expect(jobFilesInSpool(spool, 123456)).toEqual([]);
  });

  it('looks the exact names up where the spool may be searched but not listed (root:lp 0710)', () => {
    const spool = path.join(tmp, 'search-only');
    mkdirSync(spool);
    writeFileSync(path.join(spool, 'd00009-001'), 'x');
    chmodSync(spool, 0o111);
    try {
      // As root the listing still works; either way the job's file is found and others are not.
      expect(jobFilesInSpool(spool, 9)).toEqual(['d00009-001']);
      expect(jobFilesInSpool(spool, 10)).toEqual([]);
    } finally {
      chmodSync(spool, 0o755);
    }
  });
});
