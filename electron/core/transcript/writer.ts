/**
 * Appends events to transcript.jsonl as they happen: each line is written and fsynced before
 * append() returns, so a crash leaves every event that was reported as done on the disk.
 * The file is created exclusively and never rewritten.
 */
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { OperationError } from '../errors.ts';
import { canonicalJson, GENESIS_PREV_HASH, lineHash } from './chain.ts';
import type { EventData, EventType, TranscriptEvent } from './events.ts';
import { readTranscript } from './read.ts';
import { refuseObviousSecrets } from './secrets.ts';

export interface TranscriptWriterOptions {
  /** The clock; tests pass their own. */
  now?: () => Date;
  /** Called with every event before it is written; throw to refuse it. Runs after the built-in secret check. */
  guard?: (event: TranscriptEvent) => void;
}

/** data for known event types is checked against the catalogue; other types take any object. */
export type EventDataFor<T extends string> = T extends EventType ? EventData[T] : Record<string, unknown>;

export class TranscriptWriter {
  readonly path: string;
  private fd: number | undefined;
  private seq: number;
  private lastHash: string;
  private lastTime: string | undefined;
  private lastType: string | undefined;
  private readonly now: () => Date;
  private readonly guard?: (event: TranscriptEvent) => void;

  private constructor(filePath: string, fd: number, state: { seq: number; head: string; time?: string; type?: string }, opts: TranscriptWriterOptions) {
    this.path = filePath;
    this.fd = fd;
    this.seq = state.seq;
    this.lastHash = state.head;
    this.lastTime = state.time;
    this.lastType = state.type;
    this.now = opts.now ?? (() => new Date());
    this.guard = opts.guard;
  }

  /** Creates a new transcript; fails if the file exists. */
  static create(filePath: string, opts: TranscriptWriterOptions = {}): TranscriptWriter {
    let fd: number;
    try {
      fd = openSync(filePath, 'wx', 0o644);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new OperationError(`transcript ${filePath} already exists; it is never overwritten`);
      throw new OperationError(`cannot create transcript ${filePath}: ${code ?? (err as Error).message}`, { cause: err });
    }
    syncDirectory(path.dirname(filePath));
    return new TranscriptWriter(filePath, fd, { seq: 0, head: GENESIS_PREV_HASH }, opts);
  }

  /** Reopens an existing transcript after checking its whole chain, to append more (abort, status). */
  static resume(filePath: string, opts: TranscriptWriterOptions = {}): TranscriptWriter {
    let bytes: Buffer;
    try {
      bytes = readFileSync(filePath);
    } catch (err) {
      throw new OperationError(`cannot read transcript ${filePath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
    const read = readTranscript(bytes);
    if (read.problems.length > 0) {
      throw new OperationError(`cannot resume transcript ${filePath}: ${read.problems[0].detail}`);
    }
    const last = read.events.at(-1);
    const fd = openSync(filePath, 'a');
    return new TranscriptWriter(filePath, fd, { seq: read.events.length, head: read.head, time: last?.time, type: last?.type }, opts);
  }

  /** Hash of the last line written (64 zeros before the first). */
  get head(): string {
    return this.lastHash;
  }

  /** Number of events in the file. */
  get count(): number {
    return this.seq;
  }

  /** Whether close() was called (or a failed write closed it). */
  get closed(): boolean {
    return this.fd === undefined;
  }

  /** Type of the last event, if any. */
  get lastEventType(): string | undefined {
    return this.lastType;
  }

  /** Writes one event, fsyncs it, and returns it. */
  append<T extends string>(type: T, actor: string, data: EventDataFor<T>): TranscriptEvent<T, EventDataFor<T>> {
    if (this.fd === undefined) throw new OperationError(`transcript ${this.path} is closed; event ${type} was not written`);
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new OperationError(`transcript event ${type}: data must be an object`);
    }
    let time = this.now().toISOString();
    if (this.lastTime !== undefined && time < this.lastTime) time = this.lastTime; // the clock went back
    const event = { v: 1 as const, seq: this.seq, time, type, actor, data, prev: this.lastHash };
    refuseObviousSecrets(type, data);
    this.guard?.(event as TranscriptEvent);
    let line: string;
    try {
      line = canonicalJson(event);
    } catch (err) {
      throw new OperationError(`transcript event ${type} cannot be written: ${(err as Error).message}`);
    }
    const bytes = Buffer.from(line + '\n', 'utf8');
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
      fsyncSync(this.fd);
    } catch (err) {
      // A partial line may be on disk: stop here rather than chain onto it.
      this.close();
      throw new OperationError(`cannot write transcript ${this.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
    this.seq++;
    this.lastHash = lineHash(line);
    this.lastTime = time;
    this.lastType = type;
    return event;
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    closeSync(fd);
  }
}

/** Makes a new directory entry durable; not possible on every platform, so failures are ignored. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot open a directory; the file's own fsync still holds its content.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
