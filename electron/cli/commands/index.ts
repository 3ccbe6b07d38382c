import type { Command } from '../command.ts';

/** Every CLI command, in the order --help lists them. */
export const commands: Command[] = [];
