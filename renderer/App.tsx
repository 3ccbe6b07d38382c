import { useEffect } from 'react';
import { keyrite } from './bridge.ts';
import { Recover } from './screens/Recover.tsx';
import { Start } from './screens/Start.tsx';
import { Verify } from './screens/Verify.tsx';
import { CeremonyWizard } from './screens/ceremony/CeremonyWizard.tsx';
import { useUi } from './store.ts';

export function App() {
  const route = useUi((s) => s.route);
  useEffect(
    () =>
      keyrite().onEvent((ev) => {
        const ui = useUi.getState();
        if (ev.type === 'transcript') ui.addLog(ev.entry);
        else if (ev.type === 'progress') ui.patch({ progress: ev.done ? undefined : ev.message });
      }),
    [],
  );
  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">Keyrite</span>
        <span className="offline">Offline by design: this app makes no network connections.</span>
      </header>
      {route === 'start' ? <Start /> : route === 'ceremony' ? <CeremonyWizard /> : route === 'verify' ? <Verify /> : <Recover />}
    </div>
  );
}
