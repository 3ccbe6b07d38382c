/**
 * What the lifecycle needs to know of one bundle, read from its transcript and envelope without any
 * HSM: which ceremony it is (kind, key version), what it continues (previous), and what it did to the
 * key (versions generated, destroyed, exports, backup layout). Verification is done by core/verify;
 * this module only reads. Bundles older than the lifecycle (no `kind` in ceremony.started) are
 * generate ceremonies of version 1.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ENVELOPE_FILE, TRANSCRIPT_FILE } from '../transcript/dsse.ts';
import type { EventData, TranscriptEvent } from '../transcript/events.ts';
import { readTranscript } from '../transcript/read.ts';

export const CEREMONY_KINDS = ['generate', 'reshare', 'rotate', 'destroy'] as const;
export type CeremonyKind = (typeof CEREMONY_KINDS)[number];

/** The link a later ceremony records in ceremony.started: the ceremony it continues. */
export interface PreviousLink {
  ceremonyId: string;
  statementSha256: string;
}

/** Fields every ceremony.started gains (SPEC §8). `previous` is absent for generate. */
export interface LifecycleStart {
  kind: CeremonyKind;
  /** The newest version of the key once this ceremony is done (generate: 1; rotate: n+1; others: unchanged). */
  keyVersion: number;
  previous?: PreviousLink;
}

export interface BundleFacts {
  dir: string;
  ceremonyId: string;
  kind: CeremonyKind;
  keyVersion: number;
  previous?: PreviousLink;
  rehearsal: boolean;
  /** SHA-256 of the envelope's decoded payload; undefined when the bundle is unsigned or unreadable. */
  statementSha256?: string;
  /** The root key this ceremony generated (generate, rotate). */
  generated?: { label: string; id: string; algorithm: string; fingerprint: string };
  /** Versions this ceremony destroyed (destroy). */
  destroyed: number[];
  /** Where copies may still exist, as the destruction certificate names them. */
  copiesRemaining: string[];
  /** `destination`: where the plan sent it (the KMS key the export is for), when the plan says. */
  exports: { target: string; kind: string; algorithm: string; destination?: string }[];
  backup?: { groupThreshold: number; groups: { threshold: number; count: number }[]; custodians: string[]; identifier: number };
  completed: boolean;
  events: TranscriptEvent[];
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The statement digest of a bundle's envelope (hex SHA-256 of the decoded payload), or undefined. */
export function statementDigest(dir: string): string | undefined {
  try {
    const env = JSON.parse(readFileSync(path.join(dir, ENVELOPE_FILE), 'utf8')) as { payload?: unknown };
    if (typeof env.payload !== 'string') return undefined;
    return createHash('sha256').update(Buffer.from(env.payload, 'base64')).digest('hex');
  } catch {
    return undefined;
  }
}

function isKind(k: unknown): k is CeremonyKind {
  return typeof k === 'string' && (CEREMONY_KINDS as readonly string[]).includes(k);
}

/** Reads a bundle's lifecycle facts. Never throws for bad content; returns undefined when there is no readable ceremony.started. */
export function readBundleFacts(dir: string): BundleFacts | undefined {
  const file = path.join(dir, TRANSCRIPT_FILE);
  if (!existsSync(file)) return undefined;
  let events: TranscriptEvent[];
  try {
    events = readTranscript(readFileSync(file)).events;
  } catch {
    return undefined;
  }
  const started = events.find((e) => e.type === 'ceremony.started');
  if (!started) return undefined;
  const d = started.data as EventData['ceremony.started'] & Partial<LifecycleStart>;
  if (typeof d.ceremonyId !== 'string') return undefined;
  const of = <T extends keyof EventData>(t: T) => events.filter((e) => e.type === t).map((e) => e.data as EventData[T]);
  const gen = of('key.generated')[0];
  const split = of('backup.split')[0];
  const destroyed = of('version.destroyed').filter((x) => x.remaining === 0);
  const cert = of('destruction.certified')[0];
  const prev = d.previous && typeof d.previous === 'object' && typeof d.previous.ceremonyId === 'string' && HEX64.test(String(d.previous.statementSha256)) ? d.previous : undefined;
  return {
    dir,
    ceremonyId: d.ceremonyId,
    kind: isKind(d.kind) ? d.kind : 'generate',
    keyVersion: Number.isInteger(d.keyVersion) && (d.keyVersion as number) > 0 ? (d.keyVersion as number) : 1,
    previous: prev ? { ceremonyId: prev.ceremonyId, statementSha256: prev.statementSha256 } : undefined,
    rehearsal: d.rehearsal === true,
    statementSha256: statementDigest(dir),
    generated: gen
      ? { label: gen.label, id: gen.id, algorithm: gen.algorithm, fingerprint: gen.publicKey?.sha256 ?? (gen.kcv ? `KCV ${gen.kcv}` : '') }
      : undefined,
    destroyed: destroyed.map((x) => x.version).filter((v) => Number.isInteger(v)),
    copiesRemaining: (cert?.copiesRemaining ?? []).map((c) => c.where),
    exports: of('export.created').map((x) => ({ target: x.target, kind: x.kind, algorithm: x.algorithm, ...destinationOf(dir, x.target) })),
    backup: split
      ? {
          groupThreshold: split.groupThreshold,
          groups: split.groups,
          custodians: split.shares.map((s) => s.custodian),
          identifier: split.identifier,
        }
      : undefined,
    completed: events.some((e) => e.type === 'ceremony.completed'),
    events,
  };
}

/** Every bundle under the given paths: a path is a bundle (it has transcript.jsonl) or a folder whose children are. */
export function findBundles(paths: string[]): { bundles: string[]; notBundles: string[] } {
  const bundles: string[] = [];
  const notBundles: string[] = [];
  for (const p of paths) {
    if (existsSync(path.join(p, TRANSCRIPT_FILE))) {
      bundles.push(p);
      continue;
    }
    let children: string[] = [];
    try {
      children = readdirSync(p, { withFileTypes: true })
        .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
        .map((e) => path.join(p, e.name))
        .filter((c) => existsSync(path.join(c, TRANSCRIPT_FILE)))
        .sort();
    } catch {
      /* not a folder */
    }
    if (children.length) bundles.push(...children);
    else notBundles.push(p);
  }
  return { bundles: [...new Set(bundles.map((b) => path.resolve(b)))], notBundles };
}

/** The KMS key a plan's export names (from the bundle's own plan.json), as one line. */
function destinationOf(dir: string, target: string): { destination?: string } {
  try {
    const plan = JSON.parse(readFileSync(path.join(dir, 'plan.json'), 'utf8')) as { exports?: Record<string, unknown>[] };
    const e = plan.exports?.find((x) => x.name === target);
    if (!e) return {};
    const v = (k: string) => (typeof e[k] === 'string' ? (e[k] as string) : undefined);
    const parts: Record<string, (string | undefined)[]> = {
      'aws-kms': [v('keyId'), v('region') && `region ${v('region')}`],
      'gcp-kms': [v('location') && v('keyRing') && v('key') ? `projects/…/locations/${v('location')}/keyRings/${v('keyRing')}/cryptoKeys/${v('key')}` : v('key'), v('importJob') && `import job ${v('importJob')}`],
      'azure-byok': [v('vaultName') && `vault ${v('vaultName')}`, v('keyName') && `key ${v('keyName')}`],
      'vault-transit': [`${v('mount') ?? 'transit'}/keys/${v('keyName') ?? target}`],
    };
    const line = (parts[String(e.kind)] ?? []).filter(Boolean).join(', ');
    return line ? { destination: line } : {};
  } catch {
    return {};
  }
}
