/**
 * `ceremony run` on a machine with a live network interface, and check-ins at the prompt, on a real
 * SoftHSM token: without an acknowledgement the run stops before anything is created; typed
 * "connected", or --ack-network, or --ack-all (rehearsals) lets it go on, and the transcript records
 * an exception at step "network"; at a terminal each participant checks in (participant.checked-in).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHeadlessCeremony, type HeadlessRunOptions } from '../../electron/cli/ceremony-runner.ts';
import type { NetworkInterfaceRecord } from '../../electron/core/transcript/events.ts';
import { captureIO, makeTokenEnv, PIN, writePlan, type TokenEnv } from '../helpers/ceremony-fixture.ts';

let env: TokenEnv;
beforeAll(() => {
  env = makeTokenEnv('network-token');
});
afterAll(() => env.sandbox.dispose());

const online = (): NetworkInterfaceRecord[] => [
  { name: 'lo', up: false, internal: true, addresses: ['127.0.0.1/8'] },
  { name: 'eth0', up: true, internal: false, addresses: ['192.0.2.7/24'], operstate: 'up' },
];
const offline = (): NetworkInterfaceRecord[] => [{ name: 'lo', up: false, internal: true, addresses: ['127.0.0.1/8'] }];

function setup(id: string, steps = false) {
  const planFile = writePlan(env, { id, algorithm: 'ec-p256', steps });
  const outDir = path.join(env.work, `out-${id}`);
  const sharesOut = path.join(env.work, `shares-${id}`);
  mkdirSync(sharesOut, { recursive: true });
  const base: HeadlessRunOptions = { planFile, outDir, sharesOut, confirmFrom: sharesOut, rehearsal: true, ackAll: false, frontEnd: 'cli', pin: PIN, quiet: true, networkInterfaces: online };
  const events = () => readFileSync(path.join(outDir, id, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  return { base, outDir, events, bundle: path.join(outDir, id) };
}

/** A terminal whose answers are scripted; records the questions. */
function terminal(answers: string[]) {
  const io = captureIO();
  const questions: string[] = [];
  io.stdinIsTTY = true;
  io.prompt = async (q) => {
    questions.push(q);
    if (!answers.length) throw new Error(`unexpected prompt: ${q}`);
    return answers.shift()!;
  };
  return { io, questions };
}

describe('a live network interface at preflight', () => {
  it('without a terminal or --ack-network: refused (exit 2) before anything is created', async () => {
    const s = setup('net-refused');
    await expect(runHeadlessCeremony(s.base, captureIO())).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/network interface up at preflight: eth0 \(192\.0\.2\.7\/24\).*give --ack-network/),
    });
    expect(existsSync(s.bundle)).toBe(false);
  });

  it('at a terminal, anything but "connected" stops before anything is created', async () => {
    const s = setup('net-not-acked');
    const t = terminal(['yes']);
    await expect(runHeadlessCeremony(s.base, t.io)).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('it was not acknowledged; nothing was created') });
    expect(t.questions[0]).toContain('type "connected" to go on with the network up');
    expect(existsSync(s.bundle)).toBe(false);
  });

  it('typed "connected": recorded as an exception at step "network"; everyone checks in at the prompt', async () => {
    const s = setup('net-typed', true);
    // network; check-ins (ada by id, wes "present" after a wrong answer, c1..c3); the step.
    const t = terminal(['connected', 'ada', 'hello', 'present', 'c1', 'present', 'absent', 'yes']);
    await runHeadlessCeremony(s.base, t.io);
    const evs = s.events();
    const ex = evs.filter((e) => e.type === 'exception.recorded');
    expect(ex[0]).toMatchObject({ actor: 'ada', data: { step: 'network', text: expect.stringContaining('eth0 (192.0.2.7/24)') } });
    expect(ex[0].data.text).toContain('acknowledged by ada at the prompt');
    expect(evs.filter((e) => e.type === 'participant.checked-in').map((e) => e.data.participant)).toEqual(['ada', 'wes', 'c1', 'c2']);
    expect(ex[1].data.text).toContain('did not check in: absent');
    expect(t.io.err.join('')).toContain('not checked in: type "wes" or "present"');
    expect(t.questions.filter((q) => q.startsWith('Check-in: '))).toHaveLength(6);
    expect(evs.at(-1).type).toBe('ceremony.completed');
  }, 60_000);

  it('--ack-network and --ack-all acknowledge it without a prompt, and say which', async () => {
    const a = setup('net-flag');
    await runHeadlessCeremony({ ...a.base, ackNetwork: true }, captureIO());
    expect(a.events().find((e) => e.type === 'exception.recorded')).toMatchObject({ data: { step: 'network', text: expect.stringContaining('acknowledged by --ack-network') } });
    const b = setup('net-ack-all');
    await runHeadlessCeremony({ ...b.base, ackAll: true }, captureIO());
    expect(b.events().find((e) => e.type === 'exception.recorded')).toMatchObject({ data: { step: 'network', text: expect.stringContaining('acknowledged by rehearsal --ack-all') } });
  }, 60_000);

  it('an offline machine is not asked and records no exception', async () => {
    const s = setup('net-offline');
    await runHeadlessCeremony({ ...s.base, networkInterfaces: offline }, captureIO());
    expect(s.events().some((e) => e.type === 'exception.recorded')).toBe(false);
  }, 60_000);
});
