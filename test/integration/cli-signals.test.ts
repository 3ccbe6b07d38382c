/**
 * Stopping `keyrite ceremony run` with a signal (test/helpers/tty-stop.py drives a real
 * pseudo-terminal): kill -INT or kill -TERM to the node process at a prompt prints a message and
 * records the abort (where and why) in the transcript; SIGINT to the `npx` wrapper does the same
 * and leaves no keyrite process waiting at a prompt; a stop before the bundle exists says plainly
 * that nothing could be recorded.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ceremonyStatus, formatStatus } from '../../electron/core/ceremony/status.ts';
import { verifyBundle } from '../../electron/core/verify/index.ts';
import { makeTokenEnv, PIN, writePlan, type TokenEnv } from '../helpers/ceremony-fixture.ts';

let env: TokenEnv;
beforeAll(() => {
  env = makeTokenEnv('signal-token');
});
afterAll(() => env.sandbox.dispose());

function stopRun(id: string, signal: 'INT' | 'TERM', where: 'pin' | 'step' | 'words', via: 'node' | 'npx') {
  const plan = writePlan(env, { id, algorithm: 'ec-p256' });
  const out = path.join(env.work, `out-${id}`);
  const sheets = path.join(env.work, `sheets-${id}`);
  const args = ['ceremony', 'run', '--rehearsal', '--plan', plan, '--out', out, '--shares-out', sheets];
  const cmd = via === 'node' ? ['node', path.resolve('bin/keyrite.mjs'), ...args] : ['npx', '--no-install', 'keyrite', ...args];
  const screen = execFileSync('python3', [path.resolve('test/helpers/tty-stop.py'), signal, where, PIN, '--', ...cmd], {
    env: { ...process.env, SOFTHSM2_CONF: env.sandbox.confPath },
    encoding: 'utf8',
    timeout: 150_000,
  });
  const events = () => readFileSync(path.join(out, id, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  return { screen, events };
}

describe('a signal at a prompt is a recorded stop', () => {
  it('kill -TERM to node at a custodian prompt: message, abort recorded at the confirm step', () => {
    const { screen, events } = stopRun('sig-term', 'TERM', 'words', 'node');
    expect(screen).toContain('SIGTERM received: stopping the run and recording where and why');
    expect(screen).toMatch(/keyrite: error: stopped by SIGTERM sent to the keyrite process/);
    expect(screen).toMatch(/STOPPED exit=1 leftover=\n/);
    const aborted = events().at(-1);
    expect(aborted.type).toBe('ceremony.aborted');
    expect(aborted.data.reason).toContain('stopped by SIGTERM');
    expect(aborted.data.step).toBe('confirm');
    // verify and status name the same step as the transcript does; status no longer offers to record the abort.
    const bundle = path.join(env.work, 'out-sig-term', 'sig-term');
    expect(verifyBundle(bundle).verdict).toMatch(/^INCOMPLETE: aborted at step 'confirm' \(after share.printed\): stopped by SIGTERM/);
    const status = formatStatus(ceremonyStatus(bundle));
    expect(status).toContain("aborted at step 'confirm'");
    expect(status).not.toContain('records the abort');
    expect(status).toContain('removes these keys from the token (the abort itself is already recorded)');
  }, 180_000);

  it('kill -INT to node at a step prompt: abort recorded', () => {
    const { screen, events } = stopRun('sig-int', 'INT', 'step', 'node');
    expect(screen).toContain('SIGINT received');
    expect(screen).toMatch(/STOPPED exit=1 leftover=\n/);
    const aborted = events().at(-1);
    expect(aborted.type).toBe('ceremony.aborted');
    expect(aborted.data.reason).toContain('stopped by SIGINT');
    expect(aborted.data.step).toBe('steps');
  }, 180_000);

  it('kill -TERM at the PIN prompt, before the bundle exists: says plainly that nothing could be recorded', () => {
    const { screen } = stopRun('sig-pin', 'TERM', 'pin', 'node');
    expect(screen).toContain('SIGTERM received');
    expect(screen).toMatch(/keyrite: error: stopped by SIGTERM sent to the keyrite process before the ceremony began; no bundle was created, so there is nothing to record it in/);
    expect(screen).toMatch(/STOPPED exit=1 leftover=\n/);
    expect(existsSync(path.join(env.work, 'out-sig-pin', 'sig-pin'))).toBe(false);
  }, 180_000);

  it('SIGINT to the npx wrapper: the prompt does not hang, the abort is recorded, no process is left', () => {
    const { screen, events } = stopRun('sig-npx', 'INT', 'words', 'npx');
    expect(screen).toContain('SIGINT received');
    expect(screen).toMatch(/leftover=\n/);
    expect(events().at(-1)).toMatchObject({ type: 'ceremony.aborted', data: { step: 'confirm' } });
  }, 180_000);
});
