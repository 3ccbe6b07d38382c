/**
 * A production re-share through `keyrite ceremony run` (docs/lifecycle.md), on SoftHSM and a private
 * cupsd (test/helpers/cupsd.ts) with a real Chromium rendering the sheets. The current custodians type
 * their shares at the no-echo word prompt (one of them mistypes a word, which is located and asked
 * for again); the new sheets are printed one at a time and confirmed by typing the words read back
 * from the printed PDF (test/helpers/lp-tap.ts); the old custodians acknowledge destroying their old
 * sheets at the prompt. Afterwards no new share word is on disk, the new shares recover the root and
 * the old shares do not open the new root.wrapped. A signal at a prompt (test/helpers/tty-stop.py,
 * a real pseudo-terminal) is a recorded stop. Also: `ceremony run` dispatches a rehearsal
 * re-share and a destroy plan, and refuses the rehearsal-only flags without --rehearsal.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../electron/cli/command.ts';
import { main } from '../../electron/cli/keyrite.ts';
import { aesKcvSoftware } from '../../electron/core/ceremony/recovery-kcv.ts';
import { openModule } from '../../electron/core/hsm/index.ts';
import { statementDigest } from '../../electron/core/lifecycle/facts.ts';
import { combineMnemonics } from '../../electron/core/shares/index.ts';
import { wordAt, wordIndex } from '../../electron/core/shares/wordlist.ts';
import { readTranscript } from '../../electron/core/transcript/read.ts';
import { verifyBundle } from '../../electron/core/verify/index.ts';
import { captureIO, makeTokenEnv, PIN, type TokenEnv } from '../helpers/ceremony-fixture.ts';
import { startCupsd, type PrivateCupsd } from '../helpers/cupsd.ts';
import { runLifecycle } from '../helpers/lifecycle-fixture.ts';
import { lpTap, scanForShares, wordsOfSheet } from '../helpers/lp-tap.ts';

let env: TokenEnv;
let cups: PrivateCupsd;
let v1: { bundleDir: string; statementSha256: string; sharesOut: string };
let planDir: string;
let bundles: string;
const started = Date.now();
const oldWords = () => readdirSync(v1.sharesOut).filter((f) => f.endsWith('.txt')).sort().map((f) => readFileSync(path.join(v1.sharesOut, f), 'utf8').trim());
const events = (dir: string) => readTranscript(readFileSync(path.join(dir, 'transcript.jsonl'))).events;

function writeReshare(id: string, previous: string): string {
  const file = path.join(planDir, `${id}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      version: 1, ceremony: 'reshare', id, title: 'New custodians',
      previous: { bundle: path.relative(planDir, previous), statementSha256: statementDigest(previous) },
      participants: [
        { id: 'ada', name: 'Ada Admin', role: 'administrator' },
        { id: 'wes', name: 'Wes Witness', role: 'witness' },
        ...['c1', 'c2', 'c3', 'd1', 'd2', 'd3'].map((c) => ({ id: c, name: `Custodian ${c}`, role: 'custodian' })),
      ],
      hsm: { module: env.sandbox.module, tokenLabel: env.tokenLabel },
      backup: { groupThreshold: 1, groups: [{ threshold: 2, custodians: ['d1', 'd2', 'd3'] }], iterationExponent: 0 },
      steps: [{ id: 'room', text: 'The old custodians bring their sheets.', ackBy: ['wes'] }],
    }),
  );
  return file;
}

/** A terminal: prompts answered as in the room, the no-echo word prompts by `onWords`. */
function ttyIO(vars: NodeJS.ProcessEnv, onWords: (question: string) => Promise<string>): CliIO & { out: string[]; err: string[]; asked: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const asked: string[] = [];
  return {
    out,
    err,
    asked,
    stdout: (t) => void out.push(t),
    stderr: (t) => void (out.push(t), err.push(t)),
    readStdin: async () => '',
    stdinIsTTY: true,
    promptSecret: onWords,
    prompt: async (q) => {
      asked.push(q);
      return q.startsWith('Check-in: ') ? 'present' : q.includes('type "connected"') ? 'connected' : 'yes';
    },
    env: vars,
    cwd: env.work,
  };
}

beforeAll(async () => {
  env = makeTokenEnv('ceremony-token', ['fresh-token']);
  planDir = path.join(env.work, 'plans');
  bundles = path.join(env.work, 'bundles');
  mkdirSync(planDir, { recursive: true });
  v1 = await runLifecycle(env, { id: 'acme-root', algorithm: 'aes-256', label: 'acme-v1' });
  cups = await startCupsd(path.join(env.work, 'cups'));
  cups.addQueue('sheets', 'file:/dev/null');
  cups.addQueue('office-ipp', 'ipp://192.0.2.10/ipp/print');
}, 120_000);

afterAll(async () => {
  await cups?.stop();
  env?.sandbox.dispose();
  if (env) rmSync(env.work, { recursive: true, force: true });
});

describe('ceremony run with a re-share plan', () => {
  it('refuses --shares, --shares-out, --confirm-from and --ack-all without --rehearsal (exit 2, before the plan is read)', async () => {
    for (const [extra, says] of [
      [['--printer', 'sheets', '--shares', 'old.txt'], /--shares is for rehearsals only; add --rehearsal/],
      [['--shares-out', 's'], /--shares-out is for rehearsals only/],
      [['--printer', 'sheets', '--confirm-from', 's'], /--confirm-from is for rehearsals only/],
      [['--printer', 'sheets', '--ack-all'], /--ack-all is for rehearsals only/],
    ] as [string[], RegExp][]) {
      const io = captureIO({ env: { ...process.env }, cwd: env.work });
      const code = await main(['ceremony', 'run', '--plan', 'nowhere.json', '--out', 'o', ...extra], io);
      expect(code).toBe(2);
      expect(io.err.join('')).toMatch(new RegExp(`^keyrite: error: ceremony run: ${says.source}[^\\n]*\\n$`));
    }
    // With a real re-share plan: production needs a printer, and --shares is no use to a generate plan.
    const file = writeReshare('acme-root-refused', v1.bundleDir);
    const io = captureIO({ env: { ...process.env, P: PIN }, cwd: env.work });
    expect(await main(['ceremony', 'run', '--plan', file, '--out', bundles, '--pin-env', 'P'], io)).toBe(2);
    expect(io.err.join('')).toMatch(/^keyrite: error: ceremony run: --printer QUEUE is required/);
    const gen = path.join(v1.bundleDir, 'plan.json');
    const io2 = captureIO({ env: { ...process.env }, cwd: env.work });
    expect(await main(['ceremony', 'run', '--rehearsal', '--plan', gen, '--out', 'o', '--shares', 'old.txt', '--shares-out', 's'], io2)).toBe(2);
    expect(io2.err.join('')).toMatch(/--shares reads the current custodians' shares of a re-share; plan .* is not a re-share plan/);
    expect(readdirSync(bundles)).toEqual(['acme-root']);
  });

  it('checks the PIN before any share is asked for', async () => {
    const file = writeReshare('acme-root-badpin', v1.bundleDir);
    const io = ttyIO({ ...cups.env, P: '000000' }, async () => {
      throw new Error('no share may be asked for before the PIN is checked');
    });
    const code = await main(['ceremony', 'run', '--plan', file, '--out', bundles, '--printer', 'sheets', '--pin-env', 'P'], io);
    expect(code).toBe(1);
    expect(io.err.join('')).toMatch(/^keyrite: error: .*PIN/i);
    expect(readdirSync(bundles)).toEqual(['acme-root']);
  }, 60_000);

  it('refuses a printer that fails its checks before the PIN, any share or any bundle', async () => {
    const file = writeReshare('acme-root-badprinter', v1.bundleDir);
    const io = ttyIO({ ...cups.env, P: PIN }, async () => {
      throw new Error('no share may be asked for before the printer is checked');
    });
    const code = await main(['ceremony', 'run', '--plan', file, '--out', bundles, '--printer', 'office-ipp', '--pin-env', 'P'], io);
    expect(code).toBe(1);
    expect(io.err.join('')).toMatch(/^keyrite: error: printer 'office-ipp': device: device ipp:\/\/192\.0\.2\.10\/ipp\/print is not a local printer[^\n]*\n$/);
    expect(readdirSync(bundles)).toEqual(['acme-root']);
  }, 60_000);

  let bundle: string;
  let printed: string[][] = [];

  it('production: old shares typed, new sheets printed through CUPS and confirmed one at a time, old sheets acknowledged', async () => {
    const file = writeReshare('acme-root-reshare', v1.bundleDir);
    const old = oldWords();
    // Custodians c1 and c3 type their shares; c1 mistypes word 7 (a real word, so only the checksum catches it).
    const c1 = old[0].split(' ');
    const typo = [...c1];
    typo[6] = wordAt((wordIndex(c1[6])! + 1) % 1024);
    const tap = await lpTap(path.join(env.work, 'tap'));
    const script: string[] = [typo.join(' '), c1[6], old[2]];
    const questions: string[] = [];
    const io = ttyIO(tap.env({ ...cups.env, P: PIN }), async (q) => {
      questions.push(q);
      if (script.length) return script.shift()!;
      // A new sheet has just printed, and no other since the last confirmation.
      expect(tap.pdfs.length).toBe(printed.length + 1);
      const { words, text } = wordsOfSheet(tap.pdfs.at(-1)!);
      expect(words.every(Boolean), 'all 33 words read from the printed PDF').toBe(true);
      expect(text).not.toMatch(/REHEARSAL/);
      printed.push(words);
      return words.join(' ');
    });
    const code = await main(['ceremony', 'run', '--plan', file, '--out', bundles, '--printer', 'sheets', '--pin-env', 'P'], io);
    await tap.close();
    expect(io.err.filter((l) => l.startsWith('keyrite: error'))).toEqual([]);
    expect(code).toBe(0);
    // The one wrong word was located and asked for again.
    expect(questions.slice(0, 3)).toEqual(['  word 1 of 33: ', '  word 7 of 33, again: ', '  word 1 of 33: ']);
    expect(io.err.join('')).toContain('word 7 looks wrong');
    expect(printed).toHaveLength(3);
    bundle = path.join(bundles, 'acme-root-reshare');

    const ev = events(bundle);
    expect(ev[0].data).toMatchObject({ kind: 'reshare', rehearsal: false, previous: { ceremonyId: 'acme-root', statementSha256: v1.statementSha256 } });
    const at = (type: string) => ev.findIndex((e) => e.type === type);
    // The printer was checked before the new backup key was made; the old shares verified before it too.
    expect(ev.find((e) => e.type === 'printer.checked')!.data).toMatchObject({ queue: 'sheets', deviceUri: 'file:/dev/null' });
    expect(at('printer.checked')).toBeLessThan(at('backup.split'));
    expect(at('reshare.old-shares-verified')).toBeLessThan(at('backup.split'));
    expect(ev.find((e) => e.type === 'reshare.old-shares-verified')!.data.shares).toMatchObject([{ custodian: 'c1' }, { custodian: 'c3' }]);
    // Print, confirm, then the next sheet; every job on the checked queue with a clean spool.
    expect(ev.filter((e) => e.type === 'share.printed' || e.type === 'share.confirmed').map((e) => `${e.type}:${e.data.custodian}`)).toEqual([
      'share.printed:d1', 'share.confirmed:d1', 'share.printed:d2', 'share.confirmed:d2', 'share.printed:d3', 'share.confirmed:d3',
    ]);
    expect(ev.filter((e) => e.type === 'share.printed').every((e) => e.data.kind === 'printer' && e.data.output === 'sheets' && e.data.spoolClean === true && e.data.rehearsal === false)).toBe(true);
    expect(ev.filter((e) => e.type === 'share.confirmed').every((e) => e.data.method === 'typed')).toBe(true);
    // Check-ins typed; each old custodian acknowledged destroying their old sheet at the prompt, after the test recovery.
    expect(ev.filter((e) => e.type === 'participant.checked-in')).toHaveLength(8);
    expect(ev.filter((e) => e.type === 'sheet.destroyed').map((e) => [e.actor, e.data.method])).toEqual([['c1', 'prompt'], ['c2', 'prompt'], ['c3', 'prompt']]);
    expect(io.asked.filter((q) => /I destroyed my old sheet/.test(q))).toHaveLength(3);
    expect(at('backup.recovery-tested')).toBeLessThan(at('sheet.destroyed'));

    const v = verifyBundle(bundle);
    expect(v.checks.filter((c) => !c.ok)).toEqual([]);
    expect(v.verdict).toBe('VALID');

    // No new share word anywhere on disk: bundle, working folders, the spool, /tmp; nor on the terminal.
    expect(readdirSync(cups.spoolDir).filter((n) => /^[cd]\d/.test(n))).toEqual([]);
    expect(scanForShares([bundle, env.work, cups.spoolDir, os.tmpdir()], printed, started)).toEqual([]);
    for (const w of printed) expect(io.out.join('')).not.toContain(w.slice(4, 10).join(' '));
  }, 240_000);

  it('the new shares recover the root into a fresh token; the old shares do not open the new root.wrapped', () => {
    const wrapped = readFileSync(path.join(bundle, 'backup', 'root.wrapped'));
    const split = events(bundle).find((e) => e.type === 'backup.split')!.data as { kekKcv: string };
    const rootKcv = (events(v1.bundleDir).find((e) => e.type === 'key.generated')!.data as { kcv: string }).kcv;
    const oldKek = combineMnemonics([oldWords()[0], oldWords()[2]]);
    const newKek = combineMnemonics([printed[0].join(' '), printed[2].join(' ')]);
    expect(aesKcvSoftware(newKek)).toBe(split.kekKcv);
    expect(aesKcvSoftware(oldKek)).not.toBe(split.kekKcv);
    const m = openModule(env.sandbox.module);
    try {
      const s = m.login({ label: 'fresh-token' }, PIN);
      try {
        const kek = s.importAesKey(Buffer.from(newKek), 'kek', { unwrap: true });
        const root = s.unwrapKwp(kek, wrapped, { algorithm: 'aes-256', label: 'restored', id: Buffer.from('01', 'hex'), asToken: true });
        expect(s.aesKcv(root.key)).toBe(rootKcv);
        const wrong = s.importAesKey(Buffer.from(oldKek), 'old-kek', { unwrap: true });
        expect(() => s.unwrapKwp(wrong, wrapped, { algorithm: 'aes-256', label: 'nope', id: Buffer.from('02', 'hex'), asToken: false })).toThrow();
      } finally {
        s.close();
      }
    } finally {
      m.close();
    }
  });

  it('a rehearsal re-share through ceremony run: old shares from --shares FILE, new sheets as files', async () => {
    const file = writeReshare('acme-root-reshare-2', bundle);
    // The current set is now the one just printed (d1, d2, d3); the plan names c1..c3 too, which is allowed.
    writeFileSync(path.join(env.work, 'current.txt'), `# d1 and d3\n${printed[0].join(' ')}\n${printed[2].join(' ')}\n`);
    const sheets = path.join(env.work, 'rehearsal-sheets');
    const io = captureIO({ env: { ...process.env, P: PIN }, cwd: env.work });
    const code = await main(['ceremony', 'run', '--rehearsal', '--ack-all', '--plan', file, '--out', bundles, '--shares', 'current.txt', '--shares-out', sheets, '--confirm-from', sheets, '--pin-env', 'P'], io);
    expect(io.err.join('')).toBe('');
    expect(code).toBe(0);
    const b = path.join(bundles, 'acme-root-reshare-2');
    expect(verifyBundle(b).verdict).toBe('VALID (REHEARSAL)');
    expect(events(b).filter((e) => e.type === 'share.confirmed').every((e) => e.data.method === 'file')).toBe(true);
    expect(readdirSync(sheets).filter((f) => f.endsWith('.txt'))).toHaveLength(3);
  }, 120_000);

  /** `keyrite ceremony run` in a real pseudo-terminal; tty-stop.py signals it at the chosen prompt. */
  function stopRun(id: string, where: 'pin' | 'words') {
    const file = writeReshare(id, path.join(bundles, 'acme-root-reshare-2'));
    // The current set is the one the rehearsal re-share just wrote.
    const dir = path.join(env.work, 'rehearsal-sheets');
    const current = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort().slice(0, 2).map((f) => readFileSync(path.join(dir, f), 'utf8').trim());
    writeFileSync(path.join(env.work, 'current-2.txt'), `${current.join('\n')}\n`);
    const args = ['ceremony', 'run', '--rehearsal', '--plan', file, '--out', bundles, '--shares', 'current-2.txt', '--shares-out', path.join(env.work, `sheets-${id}`)];
    try {
      return execFileSync('python3', [path.resolve('test/helpers/tty-stop.py'), 'TERM', where, PIN, '--', 'node', path.resolve('bin/keyrite.mjs'), ...args], {
        cwd: env.work, env: { ...process.env, SOFTHSM2_CONF: env.sandbox.confPath }, encoding: 'utf8', timeout: 150_000,
      });
    } catch (err) {
      // What the terminal showed, for the failure message.
      throw new Error(`${(err as Error).message}\n${String((err as { stdout?: string }).stdout)}`);
    }
  }

  it('a signal at a new custodian\'s word prompt is a recorded stop', () => {
    const screen = stopRun('acme-root-reshare-stop', 'words');
    expect(screen).toContain('SIGTERM received: stopping the run and recording where and why');
    expect(screen).toMatch(/keyrite: error: stopped by SIGTERM sent to the keyrite process/);
    expect(screen).toMatch(/STOPPED exit=1 leftover=\n/);
    const ev = events(path.join(bundles, 'acme-root-reshare-stop'));
    expect(ev.at(-1)).toMatchObject({ type: 'ceremony.aborted', data: { step: 'reshare', reason: expect.stringContaining('stopped by SIGTERM') } });
    expect(ev.filter((e) => e.type === 'share.printed')).toHaveLength(1);
  }, 180_000);

  it('a signal at the PIN prompt, before any bundle: says nothing could be recorded', () => {
    const screen = stopRun('acme-root-reshare-pinstop', 'pin');
    expect(screen).toMatch(/keyrite: error: stopped by SIGTERM sent to the keyrite process before the ceremony began; no bundle was created/);
    expect(screen).toMatch(/STOPPED exit=1 leftover=\n/);
    expect(existsSync(path.join(bundles, 'acme-root-reshare-pinstop'))).toBe(false);
  }, 180_000);

  it('ceremony run with a destroy plan runs the destroy ceremony (and refuses --printer for it)', async () => {
    const file = path.join(planDir, 'destroy.json');
    const previous = path.join(bundles, 'acme-root-reshare-2');
    writeFileSync(
      file,
      JSON.stringify({
        version: 1, ceremony: 'destroy', id: 'acme-root-destroy', title: 'Retire version 1',
        previous: { bundle: path.relative(planDir, previous), statementSha256: statementDigest(previous) },
        participants: [
          { id: 'ada', name: 'Ada Admin', role: 'administrator' },
          { id: 'wes', name: 'Wes Witness', role: 'witness' },
          ...['d1', 'd2', 'd3'].map((c) => ({ id: c, name: `Custodian ${c}`, role: 'custodian' })),
        ],
        hsm: { module: env.sandbox.module, tokenLabel: env.tokenLabel },
        destroy: { versions: [1] },
      }),
    );
    const bad = captureIO({ env: { ...process.env, P: PIN }, cwd: env.work });
    expect(await main(['ceremony', 'run', '--rehearsal', '--ack-all', '--plan', file, '--out', bundles, '--printer', 'sheets', '--pin-env', 'P'], bad)).toBe(2);
    expect(bad.err.join('')).toMatch(/^keyrite: error: ceremony run: --printer has no use in a destroy ceremony/);
    const io = captureIO({ env: { ...process.env, P: PIN }, cwd: env.work });
    const code = await main(['ceremony', 'run', '--rehearsal', '--ack-all', '--plan', file, '--out', bundles, '--pin-env', 'P'], io);
    expect(io.err.join('')).toBe('');
    expect(code).toBe(0);
    expect(events(path.join(bundles, 'acme-root-destroy')).some((e) => e.type === 'destruction.certified')).toBe(true);
  }, 120_000);
});
