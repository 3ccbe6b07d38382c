import { useUi } from '../store.ts';
import { Screen } from '../components/ui.tsx';

export function Start() {
  const { go, setStep, patch } = useUi();
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
        <button
          type="button"
          className="path"
          onClick={() => {
            // A rotation is a generate ceremony whose plan links to the previous version: the same wizard.
            setStep('plan');
            go('ceremony');
          }}
        >
          <strong>Rotate a key</strong>
          <span>Make version n+1 of a root key from a rotate plan that names the previous version's bundle.</span>
        </button>
        <button
          type="button"
          className="path"
          onClick={() => {
            patch({ lifecycleKind: 'reshare' });
            go('lifecycle');
          }}
        >
          <strong>Re-share a key's backup</strong>
          <span>Custodians change: the current ones enter their shares, new shares are made for the new custodians.</span>
        </button>
        <button
          type="button"
          className="path"
          onClick={() => {
            patch({ lifecycleKind: 'destroy' });
            go('lifecycle');
          }}
        >
          <strong>Destroy key versions</strong>
          <span>Destroy versions of a root key on the token, with a certificate of destruction.</span>
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
