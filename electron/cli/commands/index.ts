import type { Command } from '../command.ts';
import { sharesCombineCommand, sharesInspectCommand, sharesSplitCommand } from './shares.ts';
import { planCheck } from './plan-check.ts';
import { verifyCommand } from './verify.ts';
import { demo } from './demo.ts';
import { ceremonyRun } from './ceremony-run.ts';
import { hsmListCommand } from './hsm-list.ts';
import { reportCommand } from './report.ts';
import { ceremonyStatusCommand } from './ceremony-status.ts';
import { ceremonyAbortCommand } from './ceremony-abort.ts';
import { ceremonySignCommand } from './ceremony-sign.ts';
import { ceremonyCosignCommand } from './ceremony-cosign.ts';
import { recoverCommand } from './recover.ts';

/** Every CLI command, in the order --help lists them. */
export const commands: Command[] = [
  demo,
  ceremonyRun,
  ceremonyStatusCommand,
  ceremonyAbortCommand,
  ceremonySignCommand,
  ceremonyCosignCommand,
  sharesSplitCommand,
  sharesCombineCommand,
  sharesInspectCommand,
  planCheck,
  verifyCommand,
  recoverCommand,
  hsmListCommand,
  reportCommand,
];
