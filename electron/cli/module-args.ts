import type { OptionSpec, ParsedArgs } from './command.ts';

/**
 * The options every command that opens a PKCS#11 module shares (docs/commands.md): `--module-args STRING`,
 * the C_Initialize reserved string some modules need (NSS softoken:
 * "configdir='sql:DIR' certPrefix='' keyPrefix='' secmod='secmod.db' flags="). Spread
 * MODULE_ARGS_OPTION into a command's options, add MODULE_ARGS_HELP to its help, read with moduleArgs().
 */
export const MODULE_ARGS_OPTION: OptionSpec = { 'module-args': { type: 'string' } };

export const MODULE_ARGS_HELP = '  --module-args STRING   C_Initialize parameters of the module (e.g. NSS softoken\'s configdir=...)';

/**
 * MODULE_ARGS_HELP followed by a command's own rule for it on the next line, indented to the
 * description column, so every command's option list stays one column wide.
 */
export function moduleArgsHelp(rule?: string): string {
  return rule === undefined ? MODULE_ARGS_HELP : `${MODULE_ARGS_HELP};\n${' '.repeat(25)}${rule}`;
}

export function moduleArgs(args: ParsedArgs): string | undefined {
  const v = args.values['module-args'];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Token narrowing where labels repeat: `--token-serial S`, then `--slot N` where serials repeat too. */
export const TOKEN_NARROWING_OPTIONS: OptionSpec = { 'token-serial': { type: 'string' }, slot: { type: 'string' } };

export const TOKEN_NARROWING_HELP = [
  '  --token-serial S       the token\'s serial, where several tokens have the label',
  '  --slot N               the slot id (as hsm list shows it), where label and serial both repeat',
].join('\n');
