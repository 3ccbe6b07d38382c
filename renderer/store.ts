/**
 * UI state only (zustand). Never a secret: no PIN, passphrase or share word is ever put here.
 * Those live in the one input that needs them and are cleared as soon as they are sent to main.
 */
import { create } from 'zustand';
import type { FinishSummary, GenerationSummary, PlanSummary, ShareSlot, TimelineEntry } from '../electron/api.ts';

export type Route = 'start' | 'ceremony' | 'lifecycle' | 'verify' | 'recover';

export type CeremonyStep =
  | 'plan'
  | 'preflight'
  | 'checkin'
  | 'steps'
  | 'pin'
  | 'generate'
  | 'custodians'
  | 'test-recovery'
  | 'exports'
  | 'finish'
  | 'cosign'
  | 'summary'
  | 'stopped';

export const CEREMONY_STEPS: { step: CeremonyStep; title: string }[] = [
  { step: 'plan', title: 'Plan' },
  { step: 'preflight', title: 'Checks' },
  { step: 'checkin', title: 'Check in' },
  { step: 'steps', title: 'Script' },
  { step: 'pin', title: 'PIN' },
  { step: 'generate', title: 'Key' },
  { step: 'custodians', title: 'Shares' },
  { step: 'test-recovery', title: 'Test' },
  { step: 'exports', title: 'Exports' },
  { step: 'finish', title: 'Sign' },
  { step: 'cosign', title: 'Co-sign' },
];

export interface UiState {
  route: Route;
  /** Which later ceremony the lifecycle route runs (docs/lifecycle.md); rotate runs in the ceremony route. */
  lifecycleKind: 'reshare' | 'destroy';
  step: CeremonyStep;
  plan?: PlanSummary;
  root?: GenerationSummary;
  finished?: FinishSummary;
  shares: ShareSlot[];
  /** Custodian index whose turn it is. */
  custodian: number;
  /** Printed-to names per custodian index (a printer name or a rehearsal file). */
  printed: Record<number, string>;
  confirmed: number[];
  log: TimelineEntry[];
  progress?: string;
  stoppedReason?: string;
  /** What to do after a stop, as the transcript records it (may name a `keyrite …` command). */
  stoppedAdvice?: string;
  /** The bundle folder of the ceremony under way, once its transcript exists (named by the error screen). */
  bundleDir?: string;
  go(route: Route): void;
  setStep(step: CeremonyStep): void;
  patch(p: Partial<UiState>): void;
  addLog(e: TimelineEntry): void;
  reset(): void;
}

const initial = {
  route: 'start' as Route,
  lifecycleKind: 'reshare' as 'reshare' | 'destroy',
  step: 'plan' as CeremonyStep,
  plan: undefined,
  root: undefined,
  finished: undefined,
  shares: [],
  custodian: 0,
  printed: {},
  confirmed: [],
  log: [],
  progress: undefined,
  stoppedReason: undefined,
  stoppedAdvice: undefined,
  bundleDir: undefined,
};

export const useUi = create<UiState>((set) => ({
  ...initial,
  go: (route) => set({ route }),
  setStep: (step) => set({ step, progress: undefined }),
  patch: (p) => set(p),
  addLog: (e) => set((s) => ({ log: [...s.log.filter((x) => x.seq !== e.seq || x.type !== e.type), e] })),
  reset: () => set({ ...initial }),
}));
