/**
 * The bundle's files: each is covered by the signed statement with its digest, and the files the
 * transcript describes (plan.json, backup/root.wrapped, the exports) are the ones it describes.
 */
import { isCanonicalBase64 } from '../transcript/dsse.ts';
import { sha256Hex } from '../transcript/chain.ts';
import type { TranscriptEvent } from '../transcript/events.ts';
import { fail, get, isString, plural, short, type Checklist } from './checklist.ts';
import { eventsOf, type FolderContext } from './context.ts';
import { NO_LINKS, isSafeRelativePath, notAFile, readInside, readPlan, relName, walkFolder } from './folder.ts';

/** subjects.digests and subjects.complete for the bundle or a recovery folder. */
export function checkSubjects(ctx: FolderContext, list: Checklist, isBundle: boolean, unsigned: string): void {
  /** subjects.digests: every subject's file has the SHA-256 the statement gives it. */
  list.run('subjects.digests', () => {
    if (!ctx.statement) fail(ctx.envelopeExists ? 'no statement to check' : unsigned);
    let n = 0;
    for (const s of ctx.statement!.subject) {
      const data = readInside(ctx.dir, s.name);
      if (data === undefined) continue; // reported by subjects.complete
      if (sha256Hex(data) !== s.sha256) fail(`${relName(ctx, s.name)} does not match its subject digest`);
      n++;
    }
    return `${plural(n, 'file digest')} match the statement`;
  });

  /** subjects.complete: every regular file but the envelope, cosignatures/ (and recoveries/) is a subject, every subject exists, and there is no link or special file. */
  list.run('subjects.complete', () => {
    if (!ctx.statement) fail(ctx.envelopeExists ? 'no statement to check' : unsigned);
    const { files, others, links } = walkFolder(ctx.dir, isBundle);
    if (links.length) fail(`${relName(ctx, links[0])} is a symbolic link; ${NO_LINKS}`);
    if (others.length) fail(`${relName(ctx, others[0])} is not a regular file`);
    const names = new Set(ctx.statement!.subject.map((s) => s.name));
    const missing = [...names].filter((n) => !files.includes(n));
    if (missing.length) fail(`subject ${relName(ctx, missing[0])} does not exist`);
    const uncovered = files.filter((f) => !names.has(f));
    if (uncovered.length) fail(`${relName(ctx, uncovered[0])} is not a subject of the statement`);
    return `every file but the envelope, cosignatures/${isBundle ? ' and recoveries/' : ''} is a subject, and every subject exists (${files.length} files)`;
  });
}

/** plan.sha256: plan.json is byte for byte the plan the ceremony loaded (ceremony.started's planSha256). */
export function checkPlanSha256(ctx: FolderContext, list: Checklist): void {
  const dir = ctx.dir;
  list.run('plan.sha256', () => {
    const started = eventsOf(ctx, 'ceremony.started')[0];
    if (!started) fail('no ceremony.started event');
    const bytes = readInside(dir, 'plan.json');
    if (!bytes) fail(notAFile(ctx, dir, 'plan.json'));
    const want = started.data.planSha256;
    if (sha256Hex(bytes!) !== want) fail(`plan.json's SHA-256 is not ceremony.started's planSha256`);
    return `plan.json SHA-256 ${short(want as string)} matches ceremony.started`;
  });
}

/** backup.wrapped: backup/root.wrapped is the wrapped root the backup.wrapped event recorded (sha256 and base64). */
export function checkBackupWrapped(ctx: FolderContext, list: Checklist): void {
  const dir = ctx.dir;
  list.run('backup.wrapped', () => {
    const ev = eventsOf(ctx, 'backup.wrapped');
    if (ev.length !== 1) fail(ev.length ? 'backup.wrapped appears more than once' : 'no backup.wrapped event');
    const file = readInside(dir, 'backup/root.wrapped');
    if (!file) fail(notAFile(ctx, dir, 'backup/root.wrapped'));
    if (sha256Hex(file!) !== ev[0].data.sha256) fail('backup/root.wrapped does not match backup.wrapped sha256');
    if (!isString(ev[0].data.wrapped) || !isCanonicalBase64(ev[0].data.wrapped) || !Buffer.from(ev[0].data.wrapped, 'base64').equals(file!)) {
      fail('backup.wrapped data.wrapped is not the base64 of backup/root.wrapped');
    }
    return `backup/root.wrapped (${file!.length} bytes) matches the backup.wrapped event`;
  });
}

/** exports.files: every planned export has an export.created, and every file it lists exists with that SHA-256. */
export function checkExportFiles(ctx: FolderContext, list: Checklist): void {
  list.run('exports.files', () => checkExports(ctx.dir, eventsOf(ctx, 'export.created')));
}

function checkExports(dir: string, created: TranscriptEvent[]): string {
  const plan = readPlan(dir);
  const planned = Array.isArray(get(plan.json, 'exports')) ? (get(plan.json, 'exports') as unknown[]).map((e) => get(e, 'name')) : [];
  for (const name of planned) {
    if (!created.some((e) => e.data.target === name)) fail(`planned export ${String(name)} has no export.created event`);
  }
  let n = 0;
  for (const ev of created) {
    const files = ev.data.files;
    if (!Array.isArray(files)) fail(`export.created ${String(ev.data.target)} has no files list`);
    for (const f of files as unknown[]) {
      const p = get(f, 'path');
      if (!isString(p) || !isSafeRelativePath(p)) fail(`export.created ${String(ev.data.target)}: a file path is not a relative path`);
      // Paths are relative to the bundle; accept ones relative to exports/<target>/ too.
      const candidates = [p as string, `exports/${String(ev.data.target)}/${p}`];
      const data = candidates.map((c) => readInside(dir, c)).find((b) => b !== undefined);
      if (!data) fail(`export ${String(ev.data.target)}: ${p} is missing`);
      if (sha256Hex(data!) !== get(f, 'sha256')) fail(`export ${String(ev.data.target)}: ${p} does not match export.created's sha256`);
      n++;
    }
  }
  return created.length ? `${plural(created.length, 'export')}, ${plural(n, 'file')} match their export.created events` : 'no exports planned or made';
}
