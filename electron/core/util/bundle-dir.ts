/**
 * One answer, in one wording, from every command that reads a bundle (verify, report, ceremony
 * status, ceremony sign) when it is given something that is not one: exit 2, one line.
 */
import { lstatSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.ts';

export function notAKeyriteBundle(shown: string): UsageError {
  return new UsageError(`${shown} has no transcript.jsonl: it is not a Keyrite bundle`);
}

/** Throws a UsageError unless `dir` is a folder holding something named transcript.jsonl. */
export function requireBundleFolder(dir: string, shown: string): void {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new UsageError(`bundle ${shown} does not exist`);
  }
  if (!isDir) throw new UsageError(`bundle ${shown} is not a folder`);
  try {
    // lstat: a transcript.jsonl that is a link or a folder is there, and is damage for verify to name.
    lstatSync(path.join(dir, 'transcript.jsonl'));
  } catch {
    throw notAKeyriteBundle(shown);
  }
}
