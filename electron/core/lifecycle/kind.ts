import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TRANSCRIPT_FILE } from '../transcript/dsse.ts';

/** Whether a bundle's first transcript line is a destroy ceremony's ceremony.started (verify dispatches on it). */
export function isDestruction(dir: string): boolean {
  try {
    const first = readFileSync(path.join(dir, TRANSCRIPT_FILE), 'utf8').split('\n', 1)[0];
    const ev = JSON.parse(first) as { type?: unknown; data?: { kind?: unknown } };
    return ev.type === 'ceremony.started' && ev.data?.kind === 'destroy';
  } catch {
    return false;
  }
}
