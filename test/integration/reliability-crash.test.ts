/**
 * Done-when #1: the CLI ceremony (`node bin/keyrite.mjs ceremony run`, a real process on a real
 * SoftHSM token) is killed with SIGKILL at seeded random moments spread over its run. After each
 * kill: the transcript is a valid chain prefix (a torn last line at most), `verify` says INCOMPLETE,
 * `ceremony status` matches the transcript and the token (no object the transcript does not name),
 * and `ceremony abort --yes` leaves no object of that ceremony on the token.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ceremonyStatus, readCeremonyJournal } from '../../electron/core/ceremony/status.ts';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import { verifyBundle } from '../../electron/core/verify/index.ts';
import { ceremonyLabels, runCli, tokenObjects, writeSmallPlan } from '../helpers/reliability.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PIN = '135790';
const TOKEN = 'crash';
const SEED = 0x6b657972; // "keyr"
const KILLS_WANTED = 20;
const MAX_RUNS = 32;

let sandbox: SoftHsmSandbox;
let work: string;

beforeAll(() => {
  sandbox = createSoftHsmSandbox();
  process.env.SOFTHSM2_CONF = sandbox.confPath;
  sandbox.initToken(TOKEN, PIN);
  work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-crash-'));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  sandbox?.dispose();
});

/** mulberry32: a small seeded PRNG, so the kill schedule is the same on every run of the test. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Run {
  id: string;
  bundle: string;
  killed: boolean;
  code: number | null;
  /** Progress lines printed (one per step the CLI reports, each after its event is on disk). */
  lines: number;
}

/**
 * Starts the CLI ceremony and, with `kill`, SIGKILLs it `afterMs` after its `atLine`-th progress
 * line (0: its first output). Anchoring on progress lines spreads the kills over the steps of the
 * run whatever the machine's speed; the random delay lands them between and inside steps.
 */
function runCeremony(n: number, kill?: { atLine: number; afterMs: number }): Promise<Run> {
  const id = `crash-${n}-${process.pid}`;
  const dir = path.join(work, id);
  const plan = writeSmallPlan(dir, { id, module: sandbox.module, tokenLabel: TOKEN, custodians: 3, threshold: 2 });
  const shares = path.join(dir, 'shares');
  mkdirSync(shares);
  const out = path.join(dir, 'out');
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin/keyrite.mjs'), 'ceremony', 'run', '--rehearsal', '--plan', plan, '--out', out, '--shares-out', shares, '--confirm-from', shares, '--ack-all', '--pin-env', 'KEYRITE_PIN'],
    { cwd: ROOT, env: { ...process.env, SOFTHSM2_CONF: sandbox.confPath, KEYRITE_PIN: PIN }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let lines = 0;
    let armed = false;
    let killed = false;
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let partial = '';
    child.stdout.on('data', (d: Buffer) => {
      // Progress lines only ("  HH:MM:SS  what happened"): the summary and the statement digest
      // printed after the run are not steps of it.
      const text = partial + d.toString();
      const complete = text.split('\n');
      partial = complete.pop() ?? '';
      lines += complete.filter((l) => /^\s+\d\d:\d\d:\d\d\s/.test(l)).length;
      if (!kill || armed || lines < Math.max(kill.atLine, 1)) return;
      armed = true;
      setTimeout(() => {
        if (child.exitCode === null) killed = child.kill('SIGKILL');
      }, kill.afterMs);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (!killed && code !== 0) reject(new Error(`ceremony run ${id} failed (${code}): ${stderr}`));
      resolve({ id, bundle: path.join(out, id), killed, code, lines });
    });
  });
}

/** What the transcript says must be true of the token and the bundle's files. */
function checkStatusAgainstWorld(run: Run): void {
  const st = ceremonyStatus(run.bundle);
  expect(st.outcome).toBe('stopped');
  const { events } = readCeremonyJournal(run.bundle);
  expect(st.lastEvent?.seq).toBe(events.length - 1);
  const onToken = tokenObjects(sandbox.module, TOKEN, PIN, ceremonyLabels(run.id));
  // No object the transcript does not name: every object's label+id is an announced key.
  for (const o of onToken) expect(st.keys.some((k) => k.label === o.label && k.id === o.idHex), `${o.label} ${o.idHex} is named by key.generating`).toBe(true);
  for (const k of st.keys) {
    const mine = onToken.filter((o) => o.label === k.label && o.idHex === k.id);
    // A key recorded as made is on the token, both halves; one only announced may be absent, whole,
    // or half made (SoftHSM writes the public and private objects one after the other).
    if (k.state === 'generated') expect(mine.map((o) => o.class).sort()).toEqual(['private', 'public']);
    else expect(mine.length).toBeLessThanOrEqual(2);
  }
  const phase = (name: string) => st.phases.find((p) => p.name === name)?.state;
  if (phase('backup wrapped') === 'done') expect(existsSync(path.join(run.bundle, 'backup', 'root.wrapped'))).toBe(true);
  if (phase('root key') === 'done') expect(existsSync(path.join(run.bundle, 'keys', 'root.pub.pem'))).toBe(true);
}

describe('SIGKILL at random points of a CLI ceremony', () => {
  it(`leaves a journal that status, verify and abort handle (≥${KILLS_WANTED} seeded kills)`, async () => {
    // One full run first: how many progress lines a whole ceremony prints.
    const full = await runCeremony(0);
    expect(full.code).toBe(0);
    expect(verifyBundle(full.bundle).valid).toBe(true);
    const span = full.lines;

    const rand = prng(SEED);
    let kills = 0;
    const seen = new Map<string, number>(); // last event type at the kill → how often
    for (let n = 1; n <= MAX_RUNS && kills < KILLS_WANTED; n++) {
      // Stratified: run n kills somewhere in the n-th of KILLS_WANTED equal stretches of the run, so
      // that the kills cover the whole ceremony however the progress lines happen to cluster.
      const stretch = (n - 1) % KILLS_WANTED;
      const run = await runCeremony(n, { atLine: Math.floor(((stretch + rand()) * span) / KILLS_WANTED), afterMs: rand() * 20 });
      if (!run.killed || verifyBundle(run.bundle).valid) {
        // The kill came after the end: a whole ceremony, which must verify.
        expect(verifyBundle(run.bundle).valid).toBe(true);
        continue;
      }
      kills++;
      if (!existsSync(run.bundle)) {
        // Killed before the bundle was published: at most a staging folder with no events, and no key.
        seen.set('(no bundle)', (seen.get('(no bundle)') ?? 0) + 1);
        expect(tokenObjects(sandbox.module, TOKEN, PIN, ceremonyLabels(run.id))).toEqual([]);
        const outDir = path.dirname(run.bundle);
        const staged = (existsSync(outDir) ? readdirSync(outDir) : []).filter((f) => f.startsWith(`.${run.id}.partial-`));
        expect(staged.length).toBeLessThanOrEqual(1);
        continue;
      }
      const journal = readCeremonyJournal(run.bundle); // throws on any chain problem
      const last = journal.events.at(-1)!.type;
      seen.set(last, (seen.get(last) ?? 0) + 1);
      const v = verifyBundle(run.bundle);
      if (last === 'ceremony.completed') {
        // Killed between the last line and the signature: the work is done, so abort keeps the keys.
        expect(v.verdict).toBe('INCOMPLETE: completed but never signed');
        expect(ceremonyStatus(run.bundle).outcome).toBe('completed-unsigned');
        const refused = await runCli(['ceremony', 'abort', run.bundle, '--reason', 'x', '--yes', '--pin-env', 'KEYRITE_PIN'], { KEYRITE_PIN: PIN });
        expect(refused.code).toBe(1);
        expect(refused.stderr).toMatch(/completed .* but was never signed; abort never removes the keys of a completed ceremony/);
        continue;
      }
      if (journal.tornTail) expect(v.verdict).toBe('INVALID'); // until abort sets the torn line aside
      else expect(v.verdict).toBe(`INCOMPLETE: stopped after ${last}`);
      checkStatusAgainstWorld(run);

      const status = await runCli(['ceremony', 'status', run.bundle]);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain(`stopped after ${last}`);

      const abort = await runCli(['ceremony', 'abort', run.bundle, '--reason', `killed in test run ${n}`, '--yes', '--pin-env', 'KEYRITE_PIN'], { KEYRITE_PIN: PIN });
      expect(abort.stderr).toBe('');
      expect(abort.code).toBe(0);
      expect(tokenObjects(sandbox.module, TOKEN, PIN, ceremonyLabels(run.id))).toEqual([]);
      const after = verifyBundle(run.bundle);
      expect(after.verdict).toMatch(/^INCOMPLETE: aborted at step '[a-z.-]+'/);
      expect(ceremonyStatus(run.bundle).keys.every((k) => k.state === 'destroyed')).toBe(true);
    }
    expect(kills).toBeGreaterThanOrEqual(KILLS_WANTED);
    // The kills landed in different phases of the run, not all at one spot.
    expect(seen.size).toBeGreaterThanOrEqual(5);
    console.log(`crash test: ${kills} kills over ${span} progress lines; last event at the kill: ${[...seen].map(([k, v]) => `${k}×${v}`).join(', ')}`);
  });
});
