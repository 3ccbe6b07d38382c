/**
 * `ceremony status` and `ceremony abort` on the odd cases a crash leaves: a torn last line, a broken
 * chain, a second abort, the administrator's confirmation, and refusals — through the real CLI on a
 * real SoftHSM token.
 */
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../electron/cli/command.ts';
import { main } from '../../electron/cli/keyrite.ts';
import { Ceremony } from '../../electron/core/ceremony/engine.ts';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import { readTranscript } from '../../electron/core/transcript/read.ts';
import { verifyBundle } from '../../electron/core/verify/index.ts';
import { runCli, tokenObjects, writeSmallPlan } from '../helpers/reliability.ts';

const PIN = '112233';
const TOKEN = 'status';
let sandbox: SoftHsmSandbox;
let work: string;
const env = () => ({ P: PIN });

beforeAll(() => {
  sandbox = createSoftHsmSandbox();
  process.env.SOFTHSM2_CONF = sandbox.confPath;
  sandbox.initToken(TOKEN, PIN);
  work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-status-'));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  sandbox?.dispose();
});

let n = 0;
/**
 * A bundle as a crash right after key generation leaves it: the engine runs to 'generated', the
 * transcript is copied as it is then, and the ceremony is closed (which the copy never sees).
 */
function crashedAfterGeneration(): { id: string; bundle: string; labels: string[] } {
  const id = `stat-${++n}-${process.pid}`;
  const dir = path.join(work, id);
  const plan = writeSmallPlan(dir, { id, module: sandbox.module, tokenLabel: TOKEN });
  const c = Ceremony.load(plan, { outDir: path.join(dir, 'out'), frontEnd: 'cli', rehearsal: true });
  const copy = path.join(dir, 'crashed', id);
  try {
    Ceremony.assertPreflight(c.preflight());
    c.login(PIN);
    c.begin();
    c.generate();
    mkdirSync(path.dirname(copy));
    cpSync(c.bundleDir, copy, { recursive: true });
  } finally {
    c.close();
  }
  return { id, bundle: copy, labels: [`${id}-root`, `keyrite-signer:${id}`] };
}

function ttyIO(answer: string): CliIO & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (t: string) => void (io.out += t),
    stderr: (t: string) => void (io.err += t),
    readStdin: async () => '',
    stdinIsTTY: true,
    promptSecret: async () => PIN,
    prompt: async () => answer,
    env: {},
    cwd: work,
  };
  return io;
}

describe('ceremony status', () => {
  it('reports each phase and the announced keys of a stopped ceremony, exit 0', async () => {
    const b = crashedAfterGeneration();
    const r = await runCli(['ceremony', 'status', b.bundle]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Status:  stopped after key\.verified/);
    expect(r.stdout).toMatch(/done\s+root key\s+'stat-\d+-\d+-root' \(ec-p256\) id [0-9a-f]{32}/);
    expect(r.stdout).toMatch(/not done\s+backup split/);
    expect(r.stdout).toMatch(/signer\s+'keyrite-signer:stat-.*' {2}id [0-9a-f]{32} {2}ec-p384 {2}\(created\)/);
    expect(r.stdout).toContain('--reason TEXT` records the abort and removes these keys from the token');
    const json = JSON.parse((await runCli(['ceremony', 'status', b.bundle, '--json'])).stdout);
    expect(json.outcome).toBe('stopped');
    expect(json.keys.map((k: { role: string }) => k.role)).toEqual(['signer', 'root']);
  });

  it('exits 1 naming the line when the chain is broken; 2 when BUNDLE is not a folder', async () => {
    const b = crashedAfterGeneration();
    const file = path.join(b.bundle, 'transcript.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[3] = lines[3].replace('"hsm.logged-in"', '"hsm.logged-on"');
    writeFileSync(file, lines.join('\n'));
    const r = await runCli(['ceremony', 'status', b.bundle]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^keyrite: error: .*transcript\.jsonl: line 5: prev does not match the hash of line 4\n$/);
    const a = await runCli(['ceremony', 'abort', b.bundle, '--reason', 'x', '--yes', '--pin-env', 'P'], env());
    expect(a.code).toBe(1);
    expect((await runCli(['ceremony', 'status', path.join(work, 'nope')])).code).toBe(2);
  });
});

describe('ceremony abort', () => {
  it('sets a torn last line aside on the record, then cleans up; verify goes from INVALID to INCOMPLETE', async () => {
    const b = crashedAfterGeneration();
    const file = path.join(b.bundle, 'transcript.jsonl');
    const before = readTranscript(file).events.length;
    appendFileSync(file, '{"actor":"system","data":{"checks":[{"name":"lab');
    expect(verifyBundle(b.bundle).verdict).toBe('INVALID');
    const st = await runCli(['ceremony', 'status', b.bundle]);
    expect(st.code).toBe(0);
    expect(st.stdout).toContain(`line ${before + 1} was being written when the run stopped`);

    const r = await runCli(['ceremony', 'abort', b.bundle, '--reason', 'power cut', '--yes', '--pin-env', 'P'], env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const t = readTranscript(file);
    expect(t.problems).toEqual([]);
    expect(t.events.slice(before).map((e) => e.type)).toEqual(['ceremony.aborted', 'transcript.tail-removed', 'key.destroyed', 'ceremony.cleanup-completed']);
    expect(t.events[before + 1].data).toMatchObject({ line: before + 1, bytes: 48 });
    expect(tokenObjects(sandbox.module, TOKEN, PIN, b.labels)).toEqual([]);
    const v = verifyBundle(b.bundle);
    expect(v.verdict).toBe("INCOMPLETE: aborted at step 'backup' (after key.verified): power cut");
    // Signed by the ceremony signer before it was removed.
    expect(v.checks.find((c) => c.name === 'signatures.verify')?.ok).toBe(true);
    expect(r.stdout).toContain('Signed: transcript.dsse.json (aborted)');
  });

  it('asks the administrator to type the ceremony id; a wrong answer changes nothing', async () => {
    const b = crashedAfterGeneration();
    const file = path.join(b.bundle, 'transcript.jsonl');
    const bytes = readFileSync(file);
    const wrong = ttyIO('not-it');
    expect(await main(['ceremony', 'abort', b.bundle, '--reason', 'rehearsal over'], wrong)).toBe(1);
    expect(wrong.err).toMatch(/^keyrite: error: abort of ceremony '.*' cancelled; nothing was changed\n$/);
    expect(wrong.out).toMatch(/REMOVE {2}root '.*-root' id [0-9a-f]{32} \((private|public) \+ (private|public)\)/);
    expect(readFileSync(file).equals(bytes)).toBe(true);
    expect(tokenObjects(sandbox.module, TOKEN, PIN, b.labels)).toHaveLength(4);

    const right = ttyIO(b.id);
    expect(await main(['ceremony', 'abort', b.bundle, '--reason', 'rehearsal over'], right)).toBe(0);
    expect(tokenObjects(sandbox.module, TOKEN, PIN, b.labels)).toEqual([]);
    // A second run finds the bundle closed by its signed abort: it writes nothing.
    const after = readFileSync(file);
    const again = await runCli(['ceremony', 'abort', b.bundle, '--yes', '--pin-env', 'P'], env());
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already closed by a signed abort');
    expect(readFileSync(file).equals(after)).toBe(true);
  });

  it('refuses without --reason (exit 2), without --yes off a terminal (exit 2), and a completed ceremony (exit 1)', async () => {
    const b = crashedAfterGeneration();
    const noReason = await runCli(['ceremony', 'abort', b.bundle, '--yes', '--pin-env', 'P'], env());
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason is required/);
    const noYes = await runCli(['ceremony', 'abort', b.bundle, '--reason', 'x', '--pin-env', 'P'], env());
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/without one, give --yes/);
    await runCli(['ceremony', 'abort', b.bundle, '--reason', 'x', '--yes', '--pin-env', 'P'], env());

    const id = `stat-done-${process.pid}`;
    const dir = path.join(work, id);
    const plan = writeSmallPlan(dir, { id, module: sandbox.module, tokenLabel: TOKEN });
    mkdirSync(path.join(dir, 'sh'));
    const run = await runCli(['ceremony', 'run', '--rehearsal', '--plan', plan, '--out', path.join(dir, 'out'), '--shares-out', path.join(dir, 'sh'), '--confirm-from', path.join(dir, 'sh'), '--ack-all', '--pin-env', 'P'], env());
    expect(run.code).toBe(0);
    const done = await runCli(['ceremony', 'abort', path.join(dir, 'out', id), '--reason', 'x', '--yes', '--pin-env', 'P'], env());
    expect(done.code).toBe(1);
    expect(done.stderr).toMatch(/completed and was signed; abort never removes the keys of a completed ceremony/);
    const st = await runCli(['ceremony', 'status', path.join(dir, 'out', id)]);
    expect(st.stdout).toMatch(/Status:  completed and signed/);
  });
});
