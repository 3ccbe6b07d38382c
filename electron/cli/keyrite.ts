import { KeyriteError } from '../core/errors.ts';
import { parseCommandArgs, type CliIO } from './command.ts';
import { processIO } from './io.ts';
import { commands, type CommandEntry } from './commands/index.ts';

const VERSION = '0.1.0';

function topHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'keyrite — root-key ceremonies on PKCS#11 hardware security modules',
    '',
    'Usage: keyrite <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command has --help. Exit status: 0 success, 1 check or operation failed, 2 bad usage or input.',
    'Add --debug to any command to see a stack trace when something fails. keyrite --version: the version.',
    '',
  ].join('\n');
}

/** `keyrite ceremony --help`: the subcommands of a group, each with its summary. */
function groupHelp(group: string, cmds: CommandEntry[]): string {
  const width = Math.max(...cmds.map((c) => c.name.length));
  return [`Usage: keyrite ${group} <subcommand> [options]`, '', 'Subcommands:', ...cmds.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`), '', `Each has --help, e.g. keyrite ${cmds[0].name} --help.`, ''].join('\n');
}

/** Finds the longest command name that prefixes argv ("shares split" before "shares"). */
function resolve(argv: string[]): { cmd: CommandEntry; rest: string[] } | undefined {
  let best: { cmd: CommandEntry; rest: string[] } | undefined;
  for (const cmd of commands) {
    const words = cmd.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.cmd.name.split(' ').length)) {
      best = { cmd, rest: argv.slice(words.length) };
    }
  }
  return best;
}

/** Runs the CLI and returns the exit status. Never throws. */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    if (argv.length === 0) {
      io.stdout(topHelp());
      throw new KeyriteError('no command given (see the list above, or keyrite --help)', 2);
    }
    if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      io.stdout(topHelp());
      return 0;
    }
    if (argv[0] === '--version') {
      io.stdout(`keyrite ${VERSION}\n`);
      return 0;
    }
    const found = resolve(argv);
    if (!found) {
      const group = commands.filter((c) => c.name.startsWith(argv[0] + ' '));
      if (group.length > 0 && (argv[1] === '--help' || argv[1] === '-h') && argv.length === 2) {
        io.stdout(groupHelp(argv[0], group));
        return 0;
      }
      if (group.length > 0 && !argv[1]?.startsWith('-') && argv[1] === undefined) {
        throw new KeyriteError(`'${argv[0]}' needs a subcommand: ${group.map((c) => c.name.split(' ')[1]).join(', ')}`, 2);
      }
      throw new KeyriteError(`unknown command '${argv.slice(0, group.length ? 2 : 1).join(' ')}' (see keyrite --help)`, 2);
    }
    // Only now is the command's module (and what it imports) loaded.
    const cmd = await found.cmd.load();
    const args = parseCommandArgs(cmd, found.rest);
    if (args.values.help) {
      io.stdout(cmd.help.endsWith('\n') ? cmd.help : cmd.help + '\n');
      return 0;
    }
    return await cmd.run(args, io);
  } catch (err) {
    if (err instanceof KeyriteError) {
      io.stderr(`keyrite: error: ${err.message}\n`);
      if (debug) io.stderr(`${err.stack}\n`);
      return err.exitCode;
    }
    const e = err as Error;
    io.stderr(`keyrite: error: unexpected failure: ${String(e?.message ?? e).split('\n')[0]}\n`);
    if (debug) io.stderr(`${e?.stack}\n`);
    return 1;
  }
}

export { VERSION };
