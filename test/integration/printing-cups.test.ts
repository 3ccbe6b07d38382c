/**
 * Production printing against a real CUPS (a private cupsd started here, test/helpers/cupsd.ts) over
 * a real SoftHSM token, through the CLI's own ceremony runner.
 *
 * How the test learns the words without Keyrite writing them anywhere: `lp` is found through PATH,
 * and the test puts a tap in front of the real /usr/bin/lp that copies the PDF it is given to a unix
 * socket the test listens on (memory only), then hands the same bytes to the real lp. The test reads
 * the words out of that PDF with pdftotext (stdin to stdout) and types them at the confirmation
 * prompt, as a custodian reads their sheet. Afterwards every file under the bundle, the working
 * folders, /tmp and the spool is scanned for the words; the scanner is shown to find a leaked sheet.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHeadlessCeremony } from '../../electron/cli/ceremony-runner.ts';
import { abortCeremony } from '../../electron/core/ceremony/abort.ts';
import { Ceremony } from '../../electron/core/ceremony/engine.ts';
import { checkPrinter, printPdf } from '../../electron/core/printing/index.ts';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import { readTranscript } from '../../electron/core/transcript/read.ts';
import { verifyBundle } from '../../electron/core/verify/index.ts';
import type { CliIO } from '../../electron/cli/command.ts';
import { startCupsd, type PrivateCupsd } from '../helpers/cupsd.ts';
import { lpTap, scanForShares, wordsOfSheet } from '../helpers/lp-tap.ts';
import { main } from '../../electron/cli/keyrite.ts';
import { ceremonyLabels, runCli, tokenObjects, writeSmallPlan } from '../helpers/reliability.ts';

const PIN = '135790';
const TOKEN = 'printing';
let sandbox: SoftHsmSandbox;
let work: string;
let cups: PrivateCupsd;
let keeping: PrivateCupsd;
const started = Date.now();

beforeAll(async () => {
  sandbox = createSoftHsmSandbox();
  process.env.SOFTHSM2_CONF = sandbox.confPath;
  sandbox.initToken(TOKEN, PIN);
  work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-printing-'));
  cups = await startCupsd(path.join(work, 'cups'));
  cups.addQueue('sheets', 'file:/dev/null');
  cups.addQueue('office-ipp', 'ipp://192.0.2.10/ipp/print');
  cups.addQueue('office-socket', 'socket://192.0.2.10:9100');
  keeping = await startCupsd(path.join(work, 'cups-keeping'), { keepJobFiles: true });
  keeping.addQueue('sheets', 'file:/dev/null');
}, 60_000);

afterAll(async () => {
  await cups?.stop();
  await keeping?.stop();
  rmSync(work, { recursive: true, force: true });
  sandbox?.dispose();
});



function ttyIO(env: NodeJS.ProcessEnv, onWords: (question: string) => Promise<string>): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (t) => void out.push(t),
    stderr: (t) => void (out.push(t), err.push(t)),
    readStdin: async () => '',
    stdinIsTTY: true,
    promptSecret: onWords,
    // Check-ins, a live network (when this machine has one) and the plan's steps, answered as in the room.
    prompt: async (q) => (q.startsWith('Check-in: ') ? 'present' : q.includes('type "connected"') ? 'connected' : 'yes'),
    env,
    cwd: work,
  };
}

describe('production printing through CUPS', () => {
  it('prints every sheet, records the printer checks and a clean spool, and leaves no share word on disk', async () => {
    const id = `print-${process.pid}`;
    const dir = path.join(work, id);
    const plan = writeSmallPlan(dir, { id, module: sandbox.module, tokenLabel: TOKEN });
    const out = path.join(dir, 'out');
    const tap = await lpTap(path.join(work, 'tap'));
    const env = { ...cups.env, PATH: `${tap.pathDir}:${process.env.PATH}`, KEYRITE_TEST_LP_TAP: tap.socket };
    const typed: string[][] = [];
    const io = ttyIO(env, async (question) => {
      // The first word prompt; a whole line of words fills all 33 (electron/cli/word-prompt.ts).
      expect(question).toBe('  word 1 of 33: ');
      // One custodian at a time: the sheet for this custodian has just printed, and no other.
      expect(tap.pdfs.length).toBe(typed.length + 1);
      const { words, text } = wordsOfSheet(tap.pdfs.at(-1)!);
      expect(words.every(Boolean), 'all 33 words read from the printed PDF').toBe(true);
      expect(text).not.toMatch(/REHEARSAL/);
      typed.push(words);
      return words.join(' ');
    });
    const r = await runHeadlessCeremony({ planFile: plan, outDir: out, printer: 'sheets', ackAll: false, frontEnd: 'cli', pin: PIN, quiet: true }, io);
    await tap.close();
    expect(tap.pdfs).toHaveLength(3);
    expect(typed).toHaveLength(3);
    expect(r.sheets).toEqual([expect.stringMatching(/^sheets job \d+$/), expect.stringMatching(/^sheets job \d+$/), expect.stringMatching(/^sheets job \d+$/)]);

    const t = readTranscript(path.join(r.bundleDir, 'transcript.jsonl'));
    expect(t.events.find((e) => e.type === 'ceremony.started')!.data.rehearsal).toBe(false);
    const checked = t.events.filter((e) => e.type === 'printer.checked');
    expect(checked).toHaveLength(1);
    expect(checked[0].data).toMatchObject({ queue: 'sheets', deviceUri: 'file:/dev/null' });
    const names = (checked[0].data.checks as { name: string; ok: boolean }[]).map((c) => [c.name, c.ok]);
    expect(names).toEqual([['queue', true], ['device', true], ['server', true], ['job files', true], ['job history', true], ['spool', true]]);
    // printer.checked comes before any key exists.
    const seq = (type: string) => t.events.findIndex((e) => e.type === type);
    expect(seq('printer.checked')).toBeLessThan(seq('key.generated'));
    const printed = t.events.filter((e) => e.type === 'share.printed');
    expect(printed.map((e) => e.data)).toEqual(printed.map(() => expect.objectContaining({ kind: 'printer', output: 'sheets', rehearsal: false, spoolClean: true })));
    // Print, confirm, then the next sheet.
    expect(t.events.filter((e) => e.type === 'share.printed' || e.type === 'share.confirmed').map((e) => e.type)).toEqual(['share.printed', 'share.confirmed', 'share.printed', 'share.confirmed', 'share.printed', 'share.confirmed']);
    expect(verifyBundle(r.bundleDir).valid).toBe(true);
    // The report has the printer section (queue, device, each check) and says where each sheet went.
    const report = readFileSync(path.join(r.bundleDir, 'report.html'), 'utf8');
    expect(report).toContain('<h3>Printer sheets</h3>');
    expect(report).toContain('<span class="mono">file:/dev/null</span>');
    expect(report.match(/PASS<\/span><\/td><td>PreserveJobFiles No/g)).toHaveLength(1);
    expect(report.match(/on <span class="mono">sheets<\/span>, job \d+; spool clean/g)).toHaveLength(3);

    // No share anywhere on disk: the spool is empty of job files, and no file holds a share's words.
    expect(readdirSync(cups.spoolDir).filter((n) => /^[cd]\d/.test(n))).toEqual([]);
    expect(scanForShares([r.bundleDir, dir, cups.spoolDir, os.tmpdir()], typed, started)).toEqual([]);
    expect(io.out.join('')).not.toContain(typed[0].slice(4, 10).join(' '));

    // The scanner finds a share when one is there (so the empty result above means something).
    const leak = path.join(work, 'leak-probe');
    mkdirSync(leak);
    writeFileSync(path.join(leak, 'sheet.html'), `<ol>${typed[1].map((w, i) => `<li><span>${i + 1}</span><span>${w}</span></li>`).join('')}</ol>`);
    expect(scanForShares([leak], typed, started)).toEqual([expect.stringContaining('words of a share')]);
    rmSync(leak, { recursive: true });
  }, 180_000);

  const refusals: { name: string; server: () => PrivateCupsd; queue: string; says: RegExp }[] = [
    { name: 'a server that keeps job files', server: () => keeping, queue: 'sheets', says: /printer 'sheets': job files: the CUPS server keeps job files after printing \(PreserveJobFiles Yes\); run `cupsctl PreserveJobFiles=No PreserveJobHistory=No`/ },
    { name: 'an ipp:// queue', server: () => cups, queue: 'office-ipp', says: /printer 'office-ipp': device: device ipp:\/\/192\.0\.2\.10\/ipp\/print is not a local printer/ },
    { name: 'a socket:// queue', server: () => cups, queue: 'office-socket', says: /printer 'office-socket': device: device socket:\/\/192\.0\.2\.10:9100 is not a local printer/ },
    { name: 'an unknown queue', server: () => cups, queue: 'nowhere', says: /printer 'nowhere': queue: CUPS has no queue 'nowhere'/ },
  ];
  for (const c of refusals) {
    it(`refuses ${c.name} before any key is generated, in one line naming the setting`, async () => {
      const id = `refuse-${c.queue}-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
      const dir = path.join(work, id);
      const plan = writeSmallPlan(dir, { id, module: sandbox.module, tokenLabel: TOKEN });
      // At a terminal (production confirms by typing), through the CLI's own entry point.
      const io = ttyIO({ ...c.server().env, P: PIN }, async () => {
        throw new Error('no share may be asked for');
      });
      const code = await main(['ceremony', 'run', '--plan', plan, '--out', path.join(dir, 'out'), '--printer', c.queue, '--pin-env', 'P'], io);
      expect(code).toBe(1);
      expect(io.err.join('')).toMatch(new RegExp(`^keyrite: error: ${c.says.source}[^\\n]*\\n$`));
      // Nothing exists: no bundle, no key on the token.
      expect(readdirSync(dir).filter((n) => n !== 'plan.json')).toEqual([]);
      expect(tokenObjects(sandbox.module, TOKEN, PIN, ceremonyLabels(id))).toEqual([]);
    }, 60_000);
  }

  it('refuses files, --confirm-from and --ack-all without --rehearsal, and a production run without --printer (exit 2)', async () => {
    const base = ['ceremony', 'run', '--plan', 'p.json', '--out', 'o'];
    for (const [extra, says] of [
      [['--shares-out', 's'], /--shares-out is for rehearsals only; add --rehearsal/],
      [['--printer', 'q', '--confirm-from', 's'], /--confirm-from is for rehearsals only/],
      [['--printer', 'q', '--ack-all'], /--ack-all is for rehearsals only/],
      [[], /--printer QUEUE is required/],
      [['--rehearsal'], /--rehearsal: give --shares-out DIR \(sheets as files\) or --printer QUEUE/],
      [['--rehearsal', '--printer', 'q', '--shares-out', 's'], /give --shares-out or --printer, not both/],
      [['--rehearsal', '--printer', 'q', '--confirm-from', 's'], /--confirm-from reads the sheet files that --shares-out writes/],
    ] as [string[], RegExp][]) {
      const r = await runCli([...base, ...extra], {});
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^keyrite: error: ceremony run: ${says.source}[^\\n]*\\n$`));
    }
  });

  it('a rehearsal printed on a queue says REHEARSAL on every sheet and in the transcript', async () => {
    const id = `rehearse-${process.pid}`;
    const dir = path.join(work, id);
    const plan = writeSmallPlan(dir, { id, module: sandbox.module, tokenLabel: TOKEN, custodians: 2, threshold: 2 });
    const tap = await lpTap(path.join(work, 'tap2'));
    const env = { ...cups.env, PATH: `${tap.pathDir}:${process.env.PATH}`, KEYRITE_TEST_LP_TAP: tap.socket };
    const io = ttyIO(env, async () => {
      const { words, text } = wordsOfSheet(tap.pdfs.at(-1)!);
      expect(text).toMatch(/REHEARSAL/);
      return words.join(' ');
    });
    const r = await runHeadlessCeremony({ planFile: plan, outDir: path.join(dir, 'out'), printer: 'sheets', rehearsal: true, ackAll: true, frontEnd: 'cli', pin: PIN, quiet: true }, io);
    await tap.close();
    const t = readTranscript(path.join(r.bundleDir, 'transcript.jsonl'));
    expect(t.events.find((e) => e.type === 'ceremony.started')!.data.rehearsal).toBe(true);
    expect(t.events.filter((e) => e.type === 'share.printed').every((e) => e.data.rehearsal === true && e.data.kind === 'printer')).toBe(true);
    expect(readFileSync(path.join(r.bundleDir, 'report.html'), 'utf8')).toContain('REHEARSAL');
  }, 120_000);

  it("sees a job's files left in the spool of a server that keeps them (the check after each job is real)", async () => {
    // Straight to the core's print step on the keeping server (which the checks would refuse).
    const pdf = Buffer.from('%PDF-1.4\n% a stand-in sheet\n');
    const job = await printPdf('sheets', pdf, { env: keeping.env, spoolDir: keeping.spoolDir, cleanupTimeoutMs: 500 });
    expect(job.spoolClean).toBe(false);
    expect(job.leftOver).toContain(`d${String(job.jobId).padStart(5, '0')}-001`);
    // And on the server that keeps nothing, the same job leaves nothing.
    const clean = await printPdf('sheets', Buffer.from(pdf), { env: cups.env, spoolDir: cups.spoolDir });
    expect(clean).toMatchObject({ spoolClean: true, leftOver: [] });
  }, 60_000);

  it('a production ceremony takes only sheets printed on a checked queue with a clean spool, and stops otherwise', async () => {
    const id = `spool-${process.pid}`;
    const dir = path.join(work, id);
    const plan = writeSmallPlan(dir, { id, module: sandbox.module, tokenLabel: TOKEN });
    const c = Ceremony.load(plan, { outDir: path.join(dir, 'out'), frontEnd: 'cli', rehearsal: false });
    try {
      Ceremony.assertPreflight(c.preflight());
      c.recordPrinterCheck(await checkPrinter('sheets', { env: cups.env }));
      c.login(PIN);
      c.begin();
      c.generate();
      c.backup();
      expect(() => c.markPrinted(0, { kind: 'file', file: 'x.html' })).toThrow(/production ceremony prints share sheets on paper/);
      expect(() => c.markPrinted(0, { kind: 'printer', queue: 'other', jobId: 1, spoolClean: true })).toThrow(/printer 'other' has not passed the printer checks/);
      expect(() => c.markPrinted(0, { kind: 'printer', queue: 'sheets', jobId: 9, spoolClean: false })).toThrow(/files of job 9 .* are still in the CUPS spool after printing/);
      const t = readTranscript(path.join(c.bundleDir, 'transcript.jsonl'));
      expect(t.events.find((e) => e.type === 'share.printed')!.data).toMatchObject({ kind: 'printer', spoolClean: false });
      expect(t.events.at(-1)).toMatchObject({ type: 'ceremony.aborted', data: { step: 'print' } });
    } finally {
      c.close();
    }
    await abortCeremony(path.join(dir, 'out', id), { pin: async () => PIN, confirm: async () => true });
  }, 60_000);
});

