/**
 * One step vocabulary: `ceremony abort` names the step of a run that stopped without recording it
 * in the engine's words (core/ceremony/steps.ts), the words a run that aborts by itself records.
 */
import { describe, expect, it } from 'vitest';
import { stepAfter } from '../../electron/core/ceremony/steps.ts';

const ev = (type: string, data: Record<string, unknown> = {}) => ({ type, data }) as never;

describe('stepAfter', () => {
  it('names the step a run was in after its last event, in the engine words', () => {
    expect(stepAfter(ev('ceremony.started'))).toBe('steps');
    expect(stepAfter(ev('step.acknowledged'))).toBe('steps');
    expect(stepAfter(ev('key.generating', { role: 'signer' }))).toBe('signer');
    expect(stepAfter(ev('key.generating', { role: 'root' }))).toBe('root');
    expect(stepAfter(ev('key.verified'))).toBe('backup');
    expect(stepAfter(ev('backup.wrapped'))).toBe('print');
    expect(stepAfter(ev('share.printed'))).toBe('confirm');
    expect(stepAfter(ev('backup.kek-wiped'))).toBe('confirm');
    expect(stepAfter(ev('export.created'))).toBe('exports');
    expect(stepAfter(ev('exception.recorded', { step: 'print' }))).toBe('print');
    expect(stepAfter(ev('exception.recorded', { step: 'network' }))).toBe('steps');
    expect(stepAfter(undefined)).toBe('none');
  });
});
