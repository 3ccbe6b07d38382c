/**
 * The malformed-input corpus (test/fixtures/bad-input-index.json): each bad plan, share file and
 * damaged bundle goes through the real CLI and must give its documented exit status and exactly one
 * stderr line, `keyrite: error: …`, matching the expected message.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../electron/cli/command.ts';
import { main } from '../../electron/cli/keyrite.ts';
import { makeSoftwareBundle } from '../helpers/bundle-fixture.ts';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const index = JSON.parse(readFileSync(path.join(FIXTURES, 'bad-input-index.json'), 'utf8')) as Record<
  'plans' | 'shares' | 'bundles',
  Record<string, { exit: number; stderr?: string; stdout?: string }>
>;

async function cli(argv: string[], stdin = '') {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    readStdin: async () => stdin,
    stdinIsTTY: false,
    promptSecret: async () => '',
    prompt: async () => '',
    env: {},
    cwd: FIXTURES,
  };
  return { code: await main(argv, io), stdout, stderr };
}

function expectOutcome(r: { code: number; stdout: string; stderr: string }, want: { exit: number; stderr?: string; stdout?: string }) {
  expect(r.code).toBe(want.exit);
  if (want.exit === 0) {
    expect(r.stderr).toBe('');
  } else {
    expect(r.stderr).toMatch(/^keyrite: error: [^\n]+\n$/);
    expect(r.stderr).toMatch(new RegExp(want.stderr!));
  }
  if (want.stdout) expect(r.stdout).toMatch(new RegExp(want.stdout));
}

describe('bad plans (keyrite plan check)', () => {
  for (const [file, want] of Object.entries(index.plans)) {
    it(file, async () => expectOutcome(await cli(['plan', 'check', path.join(FIXTURES, file)]), want));
  }
});

describe('bad shares (keyrite shares combine)', () => {
  for (const [file, want] of Object.entries(index.shares)) {
    it(file, async () => expectOutcome(await cli(['shares', 'combine'], readFileSync(path.join(FIXTURES, file), 'utf8')), want));
  }
});

/** How each named damage is done to a copy of a valid bundle; returns the path to verify. */
const MUTATIONS: Record<string, (dir: string) => string> = {
  'transcript-line-edited': (d) => edit(d, 'transcript.jsonl', (t) => t.replace('"ceremony"', '"ceremonie"')),
  'transcript-last-line-removed': (d) => edit(d, 'transcript.jsonl', (t) => t.split('\n').slice(0, -2).join('\n') + '\n'),
  'transcript-torn-tail': (d) => (appendFileSync(path.join(d, 'transcript.jsonl'), '{"actor":"sys'), d),
  'envelope-removed': (d) => (unlinkSync(path.join(d, 'transcript.dsse.json')), d),
  'envelope-signature-flipped': (d) =>
    edit(d, 'transcript.dsse.json', (t) => {
      const e = JSON.parse(t);
      const sig = Buffer.from(e.signatures[0].sig, 'base64');
      sig[sig.length - 5] ^= 1;
      e.signatures[0].sig = sig.toString('base64');
      return JSON.stringify(e);
    }),
  'envelope-not-json': (d) => (writeFileSync(path.join(d, 'transcript.dsse.json'), '{"payloadType": '), d),
  'plan-edited': (d) => edit(d, 'plan.json', (t) => t.replace('"title"', '"title" ')),
  'root-pem-replaced': (d) => edit(d, 'keys/root.pub.pem', () => readFileSync(path.join(d, 'keys', readdirKeys(d)), 'utf8')),
  'extra-file': (d) => (writeFileSync(path.join(d, 'notes.txt'), 'added later\n'), d),
  'backup-removed': (d) => (unlinkSync(path.join(d, 'backup', 'root.wrapped')), d),
  'not-a-folder': (d) => path.join(d, 'plan.json'),
  missing: (d) => path.join(d, 'no-such-bundle'),
};

function edit(dir: string, rel: string, fn: (text: string) => string): string {
  const f = path.join(dir, rel);
  writeFileSync(f, fn(readFileSync(f, 'utf8')));
  return dir;
}

/** A signer key file other than the root's. */
function readdirKeys(dir: string): string {
  const keyid = JSON.parse(Buffer.from(JSON.parse(readFileSync(path.join(dir, 'transcript.dsse.json'), 'utf8')).payload, 'base64').toString()).predicate.signers.find(
    (s: { role: string }) => s.role === 'ceremony',
  ).keyid;
  return `${keyid}.pub.pem`;
}

describe('damaged bundles (keyrite verify)', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-corpus-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('every named damage in the index has a mutation', () => {
    expect(Object.keys(index.bundles).sort()).toEqual(Object.keys(MUTATIONS).sort());
  });
  for (const [name, want] of Object.entries(index.bundles)) {
    it(name, async () => {
      const dir = path.join(work, name);
      makeSoftwareBundle(dir, { ceremonyId: 'corpus-bundle', rootAlgorithm: 'ec-p256', shares: 3 });
      expect((await cli(['verify', dir])).code).toBe(0);
      expectOutcome(await cli(['verify', MUTATIONS[name](dir)]), want);
    });
  }
});
