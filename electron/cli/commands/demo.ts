import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Command } from '../command.ts';
import { optString } from '../command.ts';
import { UsageError } from '../../core/errors.ts';
import { ROOT_ALGORITHMS, type RootAlgorithm } from '../../core/hsm/types.ts';
import { createSoftHsmSandbox } from '../../core/hsm/softhsm.ts';
import { writeDemoPlan } from '../../core/ceremony/demo-plan.ts';
import { verifyBundle, type VerifyResult } from '../../core/verify/index.ts';
import { runHeadlessCeremony } from '../ceremony-runner.ts';
import { signerRoleText, statementAnchorText } from '../anchor.ts';

/**
 * One line for the demo's summary: the verdict as `keyrite verify` prints it, then the counts, and
 * the warnings by name so nobody reads "VALID" as "nothing to weigh" (verify lists them in full).
 */
export function verificationSummary(v: VerifyResult): string {
  const count = (s: string) => v.checks.filter((c) => c.status === s).length;
  const parts = [`${count('pass')} checks passed`];
  if (count('skip') > 0) parts.push(`${count('skip')} skipped`);
  if (count('fail') > 0) parts.push(`${count('fail')} failed: ${v.checks.filter((c) => c.status === 'fail').map((c) => c.name).join(', ')}`);
  const warned = v.warnings.map((w) => w.split(':')[0]);
  if (warned.length > 0) parts.push(`${warned.length} warning${warned.length === 1 ? '' : 's'} (${warned.join(', ')})`);
  return `${v.verdict} — ${parts.join(', ')}`;
}

const DEMO_ALGORITHMS = ROOT_ALGORITHMS.filter((a) => a !== 'ed25519');

export const demo: Command = {
  name: 'demo',
  summary: 'A full rehearsal on a throwaway SoftHSM token',
  help: `Usage: keyrite demo [--out DIR] [--algorithm ALG]

A complete rehearsal on a SoftHSM token created for this run and thrown away after it: a plan with
5 custodians (3 needed), key generation, SLIP-39 backup, share sheets, confirmation, test recovery,
exports to AWS KMS, Google Cloud KMS, Azure Key Vault and Vault Transit (with DEMO wrapping keys
generated here), signing, then verification.

Writes DIR/<ceremony-id>/ (the bundle), DIR/shares/ (rehearsal share sheets) and DIR/plan/
(the generated plan and DEMO wrapping keys). Needs only SoftHSM 2 installed.

Options:
  --out DIR         default ./keyrite-demo
  --algorithm ALG   ${DEMO_ALGORITHMS.join(', ')} (default ec-p384)`,
  options: { out: { type: 'string' }, algorithm: { type: 'string' } },
  async run(args, io) {
    const out = path.resolve(io.cwd, optString(args, 'out') ?? 'keyrite-demo');
    const algorithm = (optString(args, 'algorithm') ?? 'ec-p384') as RootAlgorithm;
    // The list names only what the demo token can run end to end (ed25519 gets its own reason below).
    if (!ROOT_ALGORITHMS.includes(algorithm)) throw new UsageError(`demo: --algorithm must be one of ${DEMO_ALGORITHMS.join(', ')}`);
    // SoftHSM signs with Ed25519 but refuses to wrap it, so the demo's backup (and exports) cannot be made.
    if (algorithm === 'ed25519')
      throw new UsageError('demo: SoftHSM cannot wrap Ed25519 keys, so an ed25519 root cannot be backed up on the demo token; on an HSM that can, use keyrite ceremony run');
    for (const sub of ['shares', 'plan']) {
      const d = path.join(out, sub);
      if (existsSync(d) && readdirSync(d).length) throw new UsageError(`demo: ${d} already holds an earlier demo; remove it or give --out DIR`);
    }
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15).toLowerCase();
    const id = `demo-${algorithm}-${stamp}`;
    const sandbox = createSoftHsmSandbox();
    const previousConf = process.env.SOFTHSM2_CONF;
    try {
      // The throwaway token's PIN is random and lives only in this process.
      const pin = randomBytes(12).toString('hex');
      sandbox.initToken('keyrite-demo', pin, randomBytes(12).toString('hex'));
      process.env.SOFTHSM2_CONF = sandbox.confPath;
      io.stdout(`Keyrite demo: a rehearsal on a throwaway SoftHSM token (${sandbox.module})\n`);
      const planFile = writeDemoPlan(path.join(out, 'plan'), { id, algorithm, module: sandbox.module, tokenLabel: 'keyrite-demo' });
      const sharesOut = path.join(out, 'shares');
      mkdirSync(sharesOut, { recursive: true });
      const r = await runHeadlessCeremony(
        { planFile, outDir: out, sharesOut, confirmFrom: sharesOut, ackAll: true, frontEnd: 'demo', pin, rehearsal: true },
        { ...io, env: { ...io.env, SOFTHSM2_CONF: sandbox.confPath } },
      );
      const v = verifyBundle(r.bundleDir);
      io.stdout(
        [
          '',
          `Bundle:        ${r.bundleDir}`,
          `Report:        ${path.join(r.bundleDir, 'report.html')}`,
          `Share sheets:  ${sharesOut}/ (rehearsal only: they hold share words)`,
          `Plan:          ${planFile}`,
          `Root key:      ${r.root.label} (${r.root.algorithm}), fingerprint ${r.root.fingerprint}`,
          `Chain head:    ${r.chainHead}`,
          ...r.signers.map((s) => `Signed by:     ${s.keyid} (${signerRoleText(s.role)})`),
          `Verification:  ${verificationSummary(v)}`,
          '',
          statementAnchorText(r.statementSha256),
          `Check it again: npx keyrite verify ${path.relative(io.cwd, r.bundleDir).startsWith('..') ? r.bundleDir : path.relative(io.cwd, r.bundleDir)}`,
          '',
        ].join('\n'),
      );
      return v.valid ? 0 : 1;
    } finally {
      if (previousConf === undefined) delete process.env.SOFTHSM2_CONF;
      else process.env.SOFTHSM2_CONF = previousConf;
      sandbox.dispose();
    }
  },
};
