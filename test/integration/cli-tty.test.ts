/**
 * `keyrite ceremony run` at a real terminal (a pseudo-terminal driven by test/helpers/tty-ceremony.py):
 * the PIN and the custodians' words are typed at no-echo prompts with a word counter and never shown;
 * a mistyped word is located by the share's checksum and only that word is asked for again; a word
 * not in the list is refused as it is typed; someone else's share is caught by its check value; a
 * hasty "y" at a step prompt is asked again instead of aborting; a note goes into the transcript,
 * and the transcript records the confirmations as typed.
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
  // One wrong word: located, and only it re-typed (never quoted).
  expect(screen).toContain("the share's checksum does not match: word 8 looks wrong");
  expect(screen).toContain('<word 8 of 33, again>');
  expect(screen).toContain('<word 33 of 33>');
  expect(screen).toContain('word 3 is not in the SLIP-39 word list');
  expect(screen).not.toContain('academic');
  expect(screen).not.toContain('zzzz');
  // "y" is not "yes", and not a stop either.
  expect(screen).toContain('not acknowledged: type "yes" in full');
  const bundle = path.join(out, 'tty-ceremony');
  const events = readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(events.filter((e) => e.type === 'share.confirmed').map((e) => e.data.method)).toEqual(['typed', 'typed', 'typed']);
  expect(events.find((e) => e.type === 'note.added')).toMatchObject({ actor: 'ada', data: { text: 'the witness arrived at 09:12' } });
  expect(events.find((e) => e.type === 'step.acknowledged').data.method).toBe('prompt');
  // Everyone checked in at the prompt (the first by id, the others "present").
  expect(events.filter((e) => e.type === 'participant.checked-in').map((e) => e.data.participant)).toEqual(['ada', 'wes', 'c1', 'c2', 'c3']);
  // This machine's live interfaces, if any, were acknowledged by typing "connected", and recorded.
  const live = events[0].data.host.networkInterfaces.filter((i: { up: boolean }) => i.up);
  const net = events.filter((e) => e.type === 'exception.recorded' && e.data.step === 'network');
  expect(net).toHaveLength(live.length ? 1 : 0);
  if (live.length) expect(screen).toContain('WARNING: network interface');
  // Sheets written to files: only a rehearsal may do that (production prints, test/integration/printing-cups.test.ts).
  expect(events.find((e) => e.type === 'ceremony.started').data.rehearsal).toBe(true);
  expect(screen).toContain('REHEARSAL');
  expect(verifyBundle(bundle).valid).toBe(true);
});
