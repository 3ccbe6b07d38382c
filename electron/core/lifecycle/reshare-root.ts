/**
 * The root of a re-share bundle, for `keyrite recover` (docs/lifecycle.md): a re-share records no
 * key.generated, so the root is the key.generated of its version's generate or rotate ceremony,
 * found walking back through the links, and it must be the root the re-share's statement names.
 */
import { OperationError } from '../errors.ts';
import type { EventData } from '../transcript/events.ts';
import { readBundleFacts } from './facts.ts';
import { walkBack } from './lineage.ts';

export function rootOfReshare(dir: string, where: string): EventData['key.generated'] {
  const facts = readBundleFacts(dir);
  if (!facts || facts.kind !== 'reshare') throw new OperationError(`${where}: the transcript has no key.generated event; nothing can be recovered from it`);
  const { lineage, stoppedAt } = walkBack(facts);
  const gen = lineage.find((b) => b.keyVersion === facts.keyVersion && b.generated && (b.kind === 'generate' || b.kind === 'rotate'));
  if (!gen)
    throw new OperationError(`${where}: a re-share bundle; the bundle that generated version ${facts.keyVersion} must sit next to it${stoppedAt ? ` (the walk back stopped at ${stoppedAt})` : ''}`);
  return gen.events.find((e) => e.type === 'key.generated')!.data as EventData['key.generated'];
}
