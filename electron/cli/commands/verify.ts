import path from 'node:path';
import type { Command } from '../command.ts';
import { OperationError, UsageError } from '../../core/errors.ts';
import { requireBundleFolder } from '../../core/util/bundle-dir.ts';
import { firstFailure, verifyBundle, type Policy, type VerifyCheck } from '../../core/verify/index.ts';

const WORD = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' } as const;
const line = (c: VerifyCheck, indent = ''): string => `${indent}${WORD[c.status]} ${c.name} — ${c.detail}\n`;
const HEX64 = /^[0-9a-f]{64}$/;

export const verifyCommand: Command = {
  name: 'verify',
  // Kept equal to the entry in commands/index.ts, which lists commands without loading them.
  summary: "The auditor's check of a bundle: transcript chain, signatures, files, completeness",
  help: `Usage: keyrite verify BUNDLE [--policy FILE] [--expect-signer KEYID]... [--expect-statement SHA256] [--json]

Checks a ceremony bundle (docs/transcript.md): every transcript line is canonical JCS and chains to the one
before; seq and time are in order; the DSSE envelope parses and every signature verifies, the
co-signatures too; each keyid matches its key; every file is covered by the signed statement with
the right digest; chainHead and eventCount match the log; plan.json matches planSha256; the root
key matches keys/root.pub.pem and key.generated; every share was confirmed; a recovery test
succeeded; ceremony.completed is last. Recoveries under BUNDLE/recoveries/ are checked against the
ceremony they restore, each ending VALID, UNAUTHENTICATED, INCOMPLETE or INVALID.

Prints one line per check (PASS, FAIL or SKIP name — detail; SKIP is a check that had nothing to
check, never a pass), the warnings an auditor must weigh (rehearsal, a network interface up,
participants who never checked in, no co-signatures, a root left extractable, an unauthenticated
recovery) and a verdict: VALID, VALID (REHEARSAL), INVALID, or INCOMPLETE with the last step reached.

Options:
  --policy FILE            the importer's rules (docs/policy.md): expected signers, a co-signer
                           quorum, the root, the statement digest, and whether rehearsal, a network
                           interface up, missing check-ins, an extractable root or unauthenticated
                           recoveries are accepted; a broken rule makes the bundle INVALID
  --expect-signer KEYID    a keyid (SHA-256 of the signer's SPKI DER, 64 hex digits) that must
                           have signed; repeat for several. Get it from a trusted record.
  --expect-statement HEX   the statement digest (SHA-256 of the signed payload) from the paper record
  --json                   print {"valid", "verdict", "checks": [{"name", "ok", "status", "detail"}],
                           "warnings", "complete", "lastStep", "statementSha256", "recoveries"}

Exit status: 0 VALID or VALID (REHEARSAL); 1 INVALID, INCOMPLETE or a broken policy rule;
2 BUNDLE is not a Keyrite bundle, the policy cannot be read, or an option is wrong.`,
  options: {
    'expect-signer': { type: 'string', multiple: true },
    'expect-statement': { type: 'string' },
    policy: { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: { min: 1, max: 1, names: 'BUNDLE' },
  async run(args, io) {
    const given = args.positionals[0];
    const dir = path.resolve(io.cwd, given);
    requireBundleFolder(dir, given);
    const expect = ((args.values['expect-signer'] as string[] | undefined) ?? []).map((k) => k.trim().toLowerCase());
    const badKey = expect.find((k) => !HEX64.test(k));
    if (badKey !== undefined) throw new UsageError(`verify: --expect-signer '${badKey}' is not a keyid (64 hex digits)`);
    const rawStatement = args.values['expect-statement'] as string | undefined;
    const expectStatement = rawStatement?.trim().toLowerCase();
    if (expectStatement !== undefined && !HEX64.test(expectStatement)) throw new UsageError(`verify: --expect-statement '${rawStatement}' is not a SHA-256 (64 hex digits)`);
    const policyFile = args.values.policy as string | undefined;
    let policy: Policy | undefined;
    // Only with a policy is its reader (and zod) loaded: plain verify starts faster.
    if (policyFile !== undefined) policy = (await import('../../core/verify/policy-file.ts')).loadPolicy(path.resolve(io.cwd, policyFile), policyFile);

    const result = verifyBundle(dir, { expectSigners: expect, expectStatement, policy });
    if (args.values.json) {
      const { valid, verdict, checks, warnings, complete, lastStep, statementSha256, recoveries } = result;
      io.stdout(JSON.stringify({ valid, verdict, checks, warnings, complete, lastStep: lastStep ?? null, statementSha256: statementSha256 ?? null, recoveries }, null, 2) + '\n');
    } else {
      io.stdout(`Bundle ${given}${policyFile !== undefined ? ` (policy ${policyFile})` : ''}\n`);
      for (const c of result.checks) io.stdout(line(c));
      for (const r of result.recoveries) {
        io.stdout(`Recovery ${r.path}: ${r.verdict}\n`);
        for (const c of r.checks) io.stdout(line(c, '  '));
      }
      if (result.statementSha256) io.stdout(`Statement digest: ${result.statementSha256}\n`);
      for (const w of result.warnings) io.stdout(`WARNING ${w}\n`);
      io.stdout(`${result.verdict}\n`);
    }
    if (result.valid) return 0;
    const reason = result.verdict.startsWith('INCOMPLETE') ? result.verdict.replace(/^INCOMPLETE: /, 'incomplete: ') : firstFailure(result) ?? result.verdict;
    throw new OperationError(`bundle ${given} is not valid: ${reason}`);
  },
};
