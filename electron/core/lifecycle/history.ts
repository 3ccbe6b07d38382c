/**
 * A key's life from its bundles (SPEC §8, docs/lifecycle.md). Every bundle is verified (core/verify)
 * and read (facts.ts); bundles are joined by their links: a later ceremony's ceremony.started names
 * the previous ceremony's id and statement digest. A link is good when a bundle with that statement
 * digest is present. Otherwise it is broken (a bundle of that ceremony id is present, with another
 * digest), or a gap (no bundle of that ceremony is present). Two bundles continuing the same
 * statement are a fork. Each lineage starts at a generate ceremony (or at a gap) and is printed in
 * order with its versions and their states, backup layouts, exports and recoveries.
 * Plain Node: no PKCS#11 is loaded for history.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RECOVERIES_DIR, TRANSCRIPT_FILE } from '../transcript/dsse.ts';
import type { EventData } from '../transcript/events.ts';
import { readTranscript } from '../transcript/read.ts';
import { verifyBundle } from '../verify/index.ts';
import { readBundleFacts, type BundleFacts, type CeremonyKind } from './facts.ts';

export type VersionState = 'pre-activation' | 'active' | 'deactivated' | 'destroyed';

export interface HistoryProblem {
  kind: 'broken-link' | 'gap' | 'fork' | 'invalid' | 'unreadable';
  /** The bundle folders concerned, as given (or found under what was given). */
  bundles: string[];
  detail: string;
}

export interface HistoryCeremony {
  ceremonyId: string;
  kind: CeremonyKind;
  keyVersion: number;
  bundle: string;
  started: string;
  verdict: string;
  rehearsal: boolean;
  statementSha256?: string;
  previous?: { ceremonyId: string; statementSha256: string; link: 'ok' | 'broken' | 'missing' };
}

export interface HistoryVersion {
  version: number;
  state: VersionState;
  label: string;
  id: string;
  algorithm: string;
  fingerprint: string;
  /** The ceremony that generated it, and the one that destroyed it. */
  generatedBy: string;
  destroyedBy?: string;
  /** The version's backup: layout, custodians, the SLIP-39 set identifier of its shares, and whether they are current. */
  backup?: { groupThreshold: number; groups: { threshold: number; count: number }[]; custodians: string[]; identifier: number; sharesCurrent: boolean };
  exports: { target: string; kind: string; algorithm: string; destination?: string; ceremonyId: string }[];
  /** Where a copy may still exist, as the destruction certificate names it. */
  copiesRemaining: string[];
}

export interface HistoryRecovery {
  ceremonyId: string;
  path: string;
  verdict: string;
  time?: string;
  label?: string;
  token?: string;
}

export interface KeyHistory {
  /** The lineage's first ceremony present (the generate ceremony when the lineage is whole). */
  key: string;
  ceremonies: HistoryCeremony[];
  versions: HistoryVersion[];
  recoveries: HistoryRecovery[];
}

export interface HistoryResult {
  consistent: boolean;
  keys: KeyHistory[];
  problems: HistoryProblem[];
}

interface Node {
  facts: BundleFacts;
  shown: string;
  verdict: string;
  valid: boolean;
  recoveries: HistoryRecovery[];
  started: string;
}

export function recoveriesOf(dir: string, ceremonyId: string, verified: { path: string; verdict: string }[]): HistoryRecovery[] {
  const root = path.join(dir, RECOVERIES_DIR);
  if (!existsSync(root)) return [];
  const out: HistoryRecovery[] = [];
  for (const name of readdirSync(root).sort()) {
    const rel = `${RECOVERIES_DIR}/${name}`;
    const r: HistoryRecovery = { ceremonyId, path: rel, verdict: verified.find((v) => v.path === rel)?.verdict ?? 'UNKNOWN' };
    try {
      const events = readTranscript(readFileSync(path.join(root, name, TRANSCRIPT_FILE))).events;
      r.time = events[0]?.time;
      const k = events.find((e) => e.type === 'key.recovered')?.data as EventData['key.recovered'] | undefined;
      if (k) {
        r.label = k.label;
        r.token = `${k.token.label} (serial ${k.token.serialNumber})`;
      }
    } catch {
      /* the verdict says what is wrong with it */
    }
    out.push(r);
  }
  return out;
}

/** Verifies and joins the bundles. `shown` maps each absolute bundle folder to how it is named in messages. */
export function buildHistory(bundles: { dir: string; shown: string }[]): HistoryResult {
  const problems: HistoryProblem[] = [];
  const nodes: Node[] = [];
  for (const b of bundles) {
    const facts = readBundleFacts(b.dir);
    if (!facts) {
      problems.push({ kind: 'unreadable', bundles: [b.shown], detail: `${b.shown} has no readable ceremony.started; it is not a Keyrite ceremony bundle` });
      continue;
    }
    const v = verifyBundle(b.dir);
    const node: Node = { facts, shown: b.shown, verdict: v.verdict, valid: v.valid, started: facts.events[0]?.time ?? '', recoveries: recoveriesOf(b.dir, facts.ceremonyId, v.recoveries) };
    if (!v.valid) problems.push({ kind: 'invalid', bundles: [b.shown], detail: `${b.shown} (ceremony ${facts.ceremonyId}) does not verify: ${v.verdict}` });
    nodes.push(node);
  }

  const byDigest = new Map<string, Node>();
  for (const n of nodes) if (n.facts.statementSha256) byDigest.set(n.facts.statementSha256, n);
  const parentOf = new Map<Node, Node>();
  const children = new Map<Node, Node[]>();
  const link = new Map<Node, 'ok' | 'broken' | 'missing'>();
  for (const n of nodes) {
    const p = n.facts.previous;
    if (!p) continue;
    const parent = byDigest.get(p.statementSha256);
    if (parent && parent.facts.ceremonyId === p.ceremonyId) {
      parentOf.set(n, parent);
      children.set(parent, [...(children.get(parent) ?? []), n]);
      link.set(n, 'ok');
      continue;
    }
    const sameId = nodes.filter((x) => x !== n && x.facts.ceremonyId === p.ceremonyId);
    if (sameId.length) {
      link.set(n, 'broken');
      problems.push({
        kind: 'broken-link',
        bundles: [n.shown, ...sameId.map((x) => x.shown)],
        detail: `${n.shown} (ceremony ${n.facts.ceremonyId}) continues ceremony ${p.ceremonyId} with statement ${p.statementSha256}, but ${sameId.map((x) => `${x.shown} has statement ${x.facts.statementSha256 ?? 'unknown (unsigned)'}`).join(', ')}`,
      });
    } else {
      link.set(n, 'missing');
      problems.push({
        kind: 'gap',
        bundles: [n.shown],
        detail: `${n.shown} (ceremony ${n.facts.ceremonyId}) continues ceremony ${p.ceremonyId} (statement ${p.statementSha256}), whose bundle is not among those given`,
      });
    }
  }
  for (const [parent, kids] of children) {
    if (kids.length > 1)
      problems.push({
        kind: 'fork',
        bundles: kids.map((k) => k.shown),
        detail: `${kids.map((k) => `${k.shown} (ceremony ${k.facts.ceremonyId})`).join(' and ')} both continue ${parent.shown} (ceremony ${parent.facts.ceremonyId}); a key's ceremonies form one line`,
      });
  }

  // Lineages: from each bundle without a present parent, depth first, children in time order.
  const keys: KeyHistory[] = [];
  const starts = nodes.filter((n) => !parentOf.has(n)).sort((a, b) => a.started.localeCompare(b.started));
  for (const start of starts) {
    const line: Node[] = [];
    const walk = (n: Node) => {
      line.push(n);
      for (const k of [...(children.get(n) ?? [])].sort((a, b) => a.started.localeCompare(b.started))) walk(k);
    };
    walk(start);
    keys.push(lineage(line, link));
  }
  return { consistent: problems.length === 0, keys, problems };
}

function lineage(line: Node[], link: Map<Node, 'ok' | 'broken' | 'missing'>): KeyHistory {
  const ceremonies: HistoryCeremony[] = line.map((n) => ({
    ceremonyId: n.facts.ceremonyId,
    kind: n.facts.kind,
    keyVersion: n.facts.keyVersion,
    bundle: n.shown,
    started: n.started,
    verdict: n.verdict,
    rehearsal: n.facts.rehearsal,
    statementSha256: n.facts.statementSha256,
    ...(n.facts.previous ? { previous: { ...n.facts.previous, link: link.get(n) ?? 'missing' } } : {}),
  }));
  const versions: HistoryVersion[] = [];
  for (const n of line) {
    const g = n.facts.generated;
    if (!g || (n.facts.kind !== 'generate' && n.facts.kind !== 'rotate')) continue;
    versions.push({
      version: n.facts.keyVersion,
      // Pre-activation until its ceremony has completed and verifies; refined below.
      state: n.valid && n.facts.completed ? 'active' : 'pre-activation',
      label: g.label,
      id: g.id,
      algorithm: g.algorithm,
      fingerprint: g.fingerprint,
      generatedBy: n.facts.ceremonyId,
      backup: n.facts.backup ? { groupThreshold: n.facts.backup.groupThreshold, groups: n.facts.backup.groups, custodians: n.facts.backup.custodians, identifier: n.facts.backup.identifier, sharesCurrent: true } : undefined,
      exports: n.facts.exports.map((e) => ({ ...e, ceremonyId: n.facts.ceremonyId })),
      copiesRemaining: [],
    });
  }
  // A verified re-share replaces its version's backup: the new set is current, the old retired.
  for (const n of line) {
    if (n.facts.kind !== 'reshare' || !n.valid || !n.facts.backup) continue;
    const v = versions.find((x) => x.version === n.facts.keyVersion);
    if (v) v.backup = { groupThreshold: n.facts.backup.groupThreshold, groups: n.facts.backup.groups, custodians: n.facts.backup.custodians, identifier: n.facts.backup.identifier, sharesCurrent: true };
  }
  for (const n of line) {
    if (n.facts.kind !== 'destroy' || !n.valid) continue;
    for (const v of versions)
      if (n.facts.destroyed.includes(v.version)) {
        v.state = 'destroyed';
        v.destroyedBy = n.facts.ceremonyId;
        v.copiesRemaining = n.facts.copiesRemaining;
        if (v.backup) v.backup.sharesCurrent = false;
      }
  }
  // Only the newest live version is active; older live ones are deactivated (kept to decrypt/verify).
  const live = versions.filter((v) => v.state === 'active');
  const newest = Math.max(0, ...live.map((v) => v.version));
  for (const v of live) if (v.version !== newest) v.state = 'deactivated';
  return { key: line[0].facts.ceremonyId, ceremonies, versions, recoveries: line.flatMap((n) => n.recoveries) };
}
