import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../core/errors.ts';

/** What a command may touch. Tests and benchmarks pass their own. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Reads all of standard input as UTF-8. */
  readStdin: () => Promise<string>;
  /** Whether standard input is an interactive terminal (for no-echo prompts). */
  stdinIsTTY: boolean;
  /** Whether standard output is a terminal (commands that write files refuse to dump them there). */
  stdoutIsTTY?: boolean;
  /** Prompts on the terminal without echo; only called when stdinIsTTY. */
  promptSecret: (question: string) => Promise<string>;
  /** Prompts on the terminal with echo; only called when stdinIsTTY. */
  prompt: (question: string) => Promise<string>;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /**
   * While a ceremony or recovery runs: turns SIGINT/SIGTERM sent to the process into a stop the
   * run can record (a pending prompt is answered with the stop; `check()` throws it between
   * steps). Absent in tests that drive the CLI without a process of its own.
   */
  watchStops?: () => StopWatch;
}

export interface StopWatch {
  /** Throws the stop (an OperationError naming the signal) if one was received. */
  check(): void;
  /** Back to the default signal behaviour. */
  dispose(): void;
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Command {
  /** e.g. "plan check" */
  name: string;
  summary: string;
  /** Usage lines and option help, printed by --help. */
  help: string;
  options: OptionSpec;
  /** Whether positional arguments are accepted (and how many at most). */
  positionals?: { min: number; max: number; names: string };
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** Strict parsing: unknown flags and missing values are usage errors (exit 2). */
export function parseCommandArgs(cmd: Command, argv: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...cmd.options, help: { type: 'boolean' }, debug: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    // node's parseArgs says "Unknown option '--x'. To specify a positional ...": keep the first
    // clause, in this CLI's lower case, and say where the options are listed.
    const msg = (err as Error).message.split('\n')[0].replace(/\. To specify a positional.*$/, '');
    throw new UsageError(`${cmd.name}: ${msg.charAt(0).toLowerCase()}${msg.slice(1)} (keyrite ${cmd.name} --help lists the options)`);
  }
  const pos = cmd.positionals ?? { min: 0, max: 0, names: '' };
  if (!parsed.values.help) {
    if (parsed.positionals.length < pos.min) throw new UsageError(`${cmd.name}: missing ${pos.names} (keyrite ${cmd.name} --help shows the usage)`);
    if (parsed.positionals.length > pos.max)
      throw new UsageError(`${cmd.name}: unexpected argument '${parsed.positionals[pos.max]}'`);
  }
  return parsed as ParsedArgs;
}

export function requireString(args: ParsedArgs, cmd: string, name: string): string {
  const v = args.values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`${cmd}: --${name} is required`);
  return v;
}

export function optString(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Where a secret comes from: the environment variable that --<flag> names, or a no-echo prompt at a
 * terminal. Checked when called (so commands call it before touching an HSM); read when invoked.
 */
export function secretSource(io: CliIO, cmd: string, flag: string, envVar: string | undefined, what: string): () => Promise<string> {
  if (envVar !== undefined) {
    const v = io.env[envVar];
    if (v === undefined || v === '') throw new UsageError(`${cmd}: --${flag} names ${envVar}, which is not set`);
    return async () => v;
  }
  if (!io.stdinIsTTY) throw new UsageError(`${cmd}: no ${what}: give --${flag} VAR, or run on a terminal to be asked`);
  return () => io.promptSecret(`${what}: `);
}

/** Reads a secret from the environment variable a flag names; never echoes it. */
export function secretFromEnv(io: CliIO, cmd: string, flag: string, varName: string): string {
  const v = io.env[varName];
  if (v === undefined) throw new UsageError(`${cmd}: --${flag} names ${varName}, which is not set`);
  return v;
}
