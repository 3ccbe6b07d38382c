import { statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from '../command.ts';
import { OperationError, UsageError } from '../../core/errors.ts';
import { firstFailure, verifyBundle, type VerifyCheck } from '../../core/transcript/verify.ts';

const line = (c: VerifyCheck, indent = ''): string => `${indent}${c.ok ? 'PASS' : 'FAIL'} ${c.name} — ${c.detail}\n`;

export const verifyCommand: Command = {
  name: 'verify',
  summary: "Check a ceremony bundle: transcript chain, signatures, files, completeness (the auditor's check)",
  help: `Usage: keyrite verify BUNDLE [--expect-signer KEYID]... [--json]

Checks a ceremony bundle (docs/transcript.md): every transcript line is canonical JCS and chains to the one
before; seq and time are in order; the DSSE envelope parses and every signature verifies; each
keyid matches its key; every file is covered by the signed statement with the right digest;
chainHead and eventCount match the log; plan.json matches planSha256; the root key matches
keys/root.pub.pem and key.generated; every share was confirmed; a recovery test succeeded;
ceremony.completed is last. Recoveries under BUNDLE/recoveries/ are verified the same way.
Prints one line per check (PASS/FAIL name — detail) and a verdict: VALID, INVALID, or
INCOMPLETE (with the last step reached) for a ceremony that stopped early.

Options:
  --expect-signer KEYID  a keyid (SHA-256 of the signer's SPKI DER, 64 hex digits) that must
                         have signed; repeat for several. Get it from a trusted record.
  --json                 print {"valid", "complete", "lastStep", "verdict", "checks", "recoveries"}

Exit status: 0 valid; 1 invalid or incomplete; 2 BUNDLE is not a folder or an option is wrong.`,
  options: { 'expect-signer': { type: 'string', multiple: true }, json: { type: 'boolean' } },
  positionals: { min: 1, max: 1, names: 'BUNDLE' },
  async run(args, io) {
    const given = args.positionals[0];
    const dir = path.resolve(io.cwd, given);
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      throw new UsageError(`verify: bundle ${given} does not exist`);
    }
    if (!isDir) throw new UsageError(`verify: bundle ${given} is not a folder`);
    const expect = ((args.values['expect-signer'] as string[] | undefined) ?? []).map((k) => k.trim().toLowerCase());
    const badKey = expect.find((k) => !/^[0-9a-f]{64}$/.test(k));
    if (badKey !== undefined) throw new UsageError(`verify: --expect-signer '${badKey}' is not a keyid (64 hex digits)`);

    const result = verifyBundle(dir, { expectSigners: expect });
    if (args.values.json) {
      const { valid, complete, lastStep, verdict, checks, recoveries } = result;
      io.stdout(JSON.stringify({ valid, complete, lastStep: lastStep ?? null, verdict, checks, recoveries }, null, 2) + '\n');
    } else {
      io.stdout(`Bundle ${given}\n`);
      for (const c of result.checks) io.stdout(line(c));
      for (const r of result.recoveries) {
        io.stdout(`Recovery ${r.path}: ${r.verdict}\n`);
        for (const c of r.checks) io.stdout(line(c, '  '));
      }
      io.stdout(`${result.verdict}\n`);
    }
    if (result.valid) return 0;
    const reason = result.verdict.startsWith('INCOMPLETE') ? result.verdict.replace(/^INCOMPLETE: /, 'incomplete: ') : firstFailure(result) ?? result.verdict;
    throw new OperationError(`bundle ${given} is not valid: ${reason}`);
  },
};
