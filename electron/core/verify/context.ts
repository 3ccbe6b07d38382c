/** What the checks of one folder (the bundle, or a recovery inside it) share while they run. */
import type { KeyObject } from 'node:crypto';
import type { TranscriptEvent } from '../transcript/events.ts';
import type { TranscriptReadResult } from '../transcript/read.ts';

export interface StatementSigner {
  keyid: string;
  role: string;
  spki: Buffer;
  key: KeyObject;
}

export interface RootFacts {
  algorithm: string;
  label: string;
  publicKeySha256?: string;
  kcv?: string;
}

/** The parts of the signed statement the checks use (parsed and type-checked by statement.format). */
export interface Statement {
  subject: { name: string; sha256: string }[];
  predicateType: string;
  predicate: {
    ceremonyId: string;
    chainHead: string;
    eventCount: number;
    root: RootFacts;
    signers: StatementSigner[];
    /** The predicate as signed, for optional fields (ceremonySigner, ...). */
    raw: Record<string, unknown>;
  };
}

export interface EnvelopeSignature {
  keyid: string;
  sig: Buffer;
}

export interface FolderContext {
  dir: string;
  /** Where the folder is, for messages ("" for the bundle itself). */
  rel: string;
  transcript?: TranscriptReadResult;
  events: TranscriptEvent[];
  envelopeExists: boolean;
  envelope?: { payloadType: string; payload: Buffer; signatures: EnvelopeSignature[] };
  statement?: Statement;
  /** Lowercase hex SHA-256 of the decoded payload (docs/transcript.md, the statement digest). */
  statementSha256?: string;
  /** Listed signers whose signature verified, keyid → role. */
  verified: Map<string, string>;
  /** Co-signatures that verified, keyid → who (from cosignatures/<keyid>.json). */
  cosigned: Map<string, { participant: string; role: string }>;
}

export function newContext(dir: string, rel: string): FolderContext {
  return { dir, rel, events: [], envelopeExists: false, verified: new Map(), cosigned: new Map() };
}

/** The events of a type, in order. */
export const eventsOf = (ctx: FolderContext, type: string): TranscriptEvent[] => ctx.events.filter((e) => e.type === type);
