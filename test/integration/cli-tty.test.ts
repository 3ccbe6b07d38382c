/**
 * `keyrite ceremony run` at a real terminal (a pseudo-terminal driven by test/helpers/tty-ceremony.py):
 * the PIN and the custodians' words are typed at no-echo prompts and never shown, a wrong word is
 * caught by the share's check value and re-asked, a note goes into the transcript, and the
 * transcript records the confirmations as typed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { verifyBundle } from '../../electron/core/verify/index.ts';
import { makeTokenEnv, PIN, writePlan, type TokenEnv } from '../helpers/ceremony-fixture.ts';

let env: TokenEnv;
beforeAll(() => {
  env = makeTokenEnv('tty-token');
});
afterAll(() => env.sandbox.dispose());

it('a ceremony typed at a terminal: no echo, check values enforced, typed confirmations recorded', () => {
  const plan = writePlan(env, { id: 'tty-ceremony', algorithm: 'ec-p256' });
  const out = path.join(env.work, 'out');
  const sheets = path.join(env.work, 'sheets');
  const screen = execFileSync('python3', [path.resolve('test/helpers/tty-ceremony.py'), path.resolve('bin/keyrite.mjs'), plan, out, sheets, PIN], {
    env: { ...process.env, SOFTHSM2_CONF: env.sandbox.confPath },
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(screen).toContain('ceremony completed');
  expect(screen).not.toContain(PIN);
  const words = readdirSync(sheets).filter((f) => f.endsWith('.txt')).map((f) => readFileSync(path.join(sheets, f), 'utf8').trim());
  for (const w of words) {
    // Not one share's words appear on the screen, in any case.
    const three = w.split(' ').slice(10, 13).join(' ');
    expect(screen.toLowerCase()).not.toContain(three);
  }
  expect(screen).toMatch(/do not match their share's check value/);
  const bundle = path.join(out, 'tty-ceremony');
  const events = readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(events.filter((e) => e.type === 'share.confirmed').map((e) => e.data.method)).toEqual(['typed', 'typed', 'typed']);
  expect(events.find((e) => e.type === 'note.added')).toMatchObject({ actor: 'ada', data: { text: 'the witness arrived at 09:12' } });
  expect(events.find((e) => e.type === 'step.acknowledged').data.method).toBe('prompt');
  // Sheets written to files: only a rehearsal may do that (production prints, test/integration/printing-cups.test.ts).
  expect(events.find((e) => e.type === 'ceremony.started').data.rehearsal).toBe(true);
  expect(screen).toContain('REHEARSAL');
  expect(verifyBundle(bundle).valid).toBe(true);
});
