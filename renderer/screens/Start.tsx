import { useUi } from '../store.ts';
import { Screen } from '../components/ui.tsx';

export function Start() {
  const { go, setStep } = useUi();
  return (
    <Screen title="Keyrite" lead="Root-key ceremonies on a hardware security module (HSM), with a paper backup and a signed record." testId="screen-start">
      <div className="paths">
        <button
          type="button"
          className="path"
          autoFocus
          onClick={() => {
            setStep('plan');
            go('ceremony');
          }}
        >
          <strong>Run a ceremony</strong>
          <span>Create a root key from a reviewed plan, print the custodians' shares, and sign the record.</span>
        </button>
        <button type="button" className="path" onClick={() => go('verify')}>
          <strong>Verify a bundle</strong>
          <span>Check a finished ceremony's folder: signatures, the record of events, and the files.</span>
        </button>
        <button type="button" className="path" onClick={() => go('recover')}>
          <strong>Recover from shares</strong>
          <span>Restore the root key into a new HSM from enough printed shares.</span>
        </button>
      </div>
    </Screen>
  );
}
