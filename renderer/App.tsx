import { lazy, Suspense, useEffect, useState } from 'react';
import { keyrite } from './bridge.ts';
import { ScreenErrorBoundary } from './components/ErrorBoundary.tsx';
import { Start } from './screens/Start.tsx';
import { useUi } from './store.ts';

// Only the start screen is in the first script; each flow is a chunk of its own (Vite code
// splitting), fetched from the app's own files once the start screen has painted, so the first
// paint waits for React and the start screen alone (`npm run bench`, renderer first render).
const loadCeremony = () => import('./screens/ceremony/CeremonyWizard.tsx');
const loadVerify = () => import('./screens/Verify.tsx');
const loadLifecycle = () => import('./screens/lifecycle/LifecycleWizard.tsx');
const loadRecover = () => import('./screens/Recover.tsx');
const CeremonyWizard = lazy(async () => ({ default: (await loadCeremony()).CeremonyWizard }));
const LifecycleWizard = lazy(async () => ({ default: (await loadLifecycle()).LifecycleWizard }));
const Verify = lazy(async () => ({ default: (await loadVerify()).Verify }));
const Recover = lazy(async () => ({ default: (await loadRecover()).Recover }));

/** Fetches the other screens while the custodians read the start screen. */
function preloadScreens(): void {
  const load = () => void Promise.all([loadCeremony(), loadLifecycle(), loadVerify(), loadRecover()]).catch(() => undefined);
  if (typeof requestIdleCallback === 'function') requestIdleCallback(load, { timeout: 1000 });
  else setTimeout(load, 200);
}

/**
 * `booting`: rendered into index.html at build time and hydrated with the same value; the start
 * screen is shown but disabled until React owns it, then rendered afresh (enabled, autofocus).
 */
export function App(props: { booting?: boolean }) {
  const route = useUi((s) => s.route);
  const [booting, setBooting] = useState(props.booting === true);
  useEffect(() => setBooting(false), []);
  useEffect(
    () =>
      keyrite().onEvent((ev) => {
        const ui = useUi.getState();
        if (ev.type === 'transcript') ui.addLog(ev.entry);
        else if (ev.type === 'progress') ui.patch({ progress: ev.done ? undefined : ev.message });
      }),
    [],
  );
  useEffect(preloadScreens, []);
  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">Keyrite</span>
        <span className="offline">Offline by design: this app makes no network connections.</span>
      </header>
      <ScreenErrorBoundary>
        <Suspense fallback={<section className="screen" aria-busy="true" />}>
          {booting ? (
            <fieldset className="booting" disabled>
              <Start />
            </fieldset>
          ) : route === 'start' ? (
            <Start />
          ) : route === 'ceremony' ? (
            <CeremonyWizard />
          ) : route === 'lifecycle' ? (
            <LifecycleWizard />
          ) : route === 'verify' ? (
            <Verify />
          ) : (
            <Recover />
          )}
        </Suspense>
      </ScreenErrorBoundary>
    </div>
  );
}
