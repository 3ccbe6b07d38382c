import { judgeCapabilities } from '../../core/hsm/capabilities.ts';
import { proveCapabilities } from '../../core/hsm/capability-probe.ts';
import { endSession, exactSelector, kwpSelfTest, ROOT_ALGORITHMS, selectOn, type HsmModule, type TokenSelector } from '../../core/hsm/index.ts';

/**
 * `hsm list --prove`: logs in to one token and runs, for every root algorithm its mechanism list
 * allows, the very proofs a ceremony runs at login (capability-probe.ts) with throwaway session
 * objects. So `hsm list` can say in advance what the ceremony's login will find (NSS: EC keys wrap
 * but do not unwrap back), and the two never disagree.
 */
export function proveLines(mod: HsmModule, sel: TokenSelector, pin: string): string[] {
  const { token } = selectOn(mod, sel);
  const mechs = mod.mechanisms(exactSelector(token));
  const session = mod.login(exactSelector(token), pin);
  const lines = [`  proofs on '${token.label}' (slot ${token.slotId}), with throwaway session objects, as at a ceremony's login:`];
  try {
    let kwp = '';
    try {
      const r = kwpSelfTest(session);
      kwp = `${r.info.mechanism}${r.info.zeroPadsInput ? ' (zero-pads its input)' : ''}: ${r.ok ? 'matches the software result' : 'does NOT match the software result'}`;
    } catch (err) {
      kwp = (err as Error).message;
    }
    lines.push(`      RFC 5649 self-test    ${kwp}`);
    for (const alg of ROOT_ALGORITHMS) {
      const plan = judgeCapabilities(mechs, alg, { tokenFlags: token.flags });
      if (!plan.ok) {
        lines.push(`      REFUSED   ${alg.padEnd(12)}by its mechanism list (above)`);
        continue;
      }
      const proof = proveCapabilities(session, alg, plan);
      const bad = proof.checks.find((c) => !c.ok);
      const quirks = proof.quirks.map((q) => `CKA_${q.attribute === 'local' ? 'LOCAL' : q.attribute === 'alwaysSensitive' ? 'ALWAYS_SENSITIVE' : 'NEVER_EXTRACTABLE'} ${q.reported === 'unreported' ? 'not reported' : 'false'}`);
      const notes = [...(quirks.length ? [`quirk: ${quirks.join(', ')}`] : []), ...(proof.unwrapIgnores.length ? [`unwrap ignores ${proof.unwrapIgnores.join(', ')}`] : [])];
      lines.push(bad ? `      REFUSED   ${alg.padEnd(12)}${bad.name}: ${bad.detail}` : `      proven    ${alg.padEnd(12)}${proof.checks.length} proofs passed${notes.length ? `; ${notes.join('; ')}` : ''}`);
    }
  } finally {
    endSession(session);
  }
  return lines;
}
