/**
 * The checks before a re-share or a destruction touches anything: the link to the previous bundle
 * (checked by main when the plan was opened: that bundle verifies and has the pinned statement
 * digest) and the machine's network interfaces, as on a generation's checks screen. An online
 * machine needs someone to say "we know"; the interfaces are recorded in ceremony.started either way.
 */
import { useEffect, useState } from 'react';
import type { LifecycleSummary, NetworkStatus } from '../../../electron/api.ts';
import { call, keyrite } from '../../bridge.ts';
import { ErrorBox, Screen, useAction } from '../../components/ui.tsx';

export function LifecycleChecks({ summary, onDone }: { summary: LifecycleSummary; onDone(networkAcknowledged: boolean): void }) {
  const act = useAction();
  const [network, setNetwork] = useState<NetworkStatus>();
  const [accepted, setAccepted] = useState(false);
  useEffect(() => void act.run(async () => setNetwork(await call(keyrite().airgapStatus()))), []);
  const online = network?.online ?? false;
  return (
    <Screen title="Checks before we start" lead={`“${summary.title}”. Nothing has been written yet and the HSM has not been touched.`} testId="screen-lifecycle-checks">
      <h2>The key's history</h2>
      <p data-testid="lifecycle-link">
        Continues ceremony <strong>{summary.previous.ceremonyId}</strong> (statement <code>{summary.previous.statementSha256}</code>), which verifies and matches the digest the plan
        pins. Key version {summary.keyVersion}.
      </p>
      <h2>Network</h2>
      {network ? (
        <>
          <p className={online ? 'warn' : 'ok'} role="status">
            {online ? 'This machine has a network connection. A ceremony machine should be offline (air-gapped); this is recorded in the transcript.' : 'No network interface is up: the machine is offline (air-gapped).'}
          </p>
          <ul data-testid="lifecycle-interfaces">
            {network.interfaces.map((i) => (
              <li key={i.name}>
                {i.name}: {i.internal ? 'loopback (this machine only)' : i.up ? 'UP — connected' : 'down'} {i.addresses.join(', ')}
              </li>
            ))}
          </ul>
          {online ? (
            <label className="check">
              <input type="checkbox" name="accept-online" checked={accepted} onChange={(e) => setAccepted(e.target.checked)} /> We know this machine is connected and go on anyway.
            </label>
          ) : null}
        </>
      ) : null}
      <ErrorBox error={act.error} />
      <button type="button" disabled={!network || (online && !accepted)} onClick={() => onDone(online && accepted)}>
        Continue
      </button>
    </Screen>
  );
}
