import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TRANSCRIPT_FILE } from '../transcript/dsse.ts';

/** The kind a bundle's first transcript line (ceremony.started) records; verify dispatches on it. */
export function startedKind(dir: string): string | undefined {
  try {
    const first = readFileSync(path.join(dir, TRANSCRIPT_FILE), 'utf8').split('\n', 1)[0];
    const ev = JSON.parse(first) as { type?: unknown; data?: { kind?: unknown } };
    return ev.type === 'ceremony.started' && typeof ev.data?.kind === 'string' ? ev.data.kind : undefined;
  } catch {
    return undefined;
  }
}
