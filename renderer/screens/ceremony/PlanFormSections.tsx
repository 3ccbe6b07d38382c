/**
 * The plan form's sections, in the order of plan.json: who is there, the HSM and the key, the backup
 * shares, the exports and the script. Labels explain each term where it appears.
 */
import { Choice, PeoplePicker, Problems, Row, Section, TextInput, Tick, useForm } from './PlanFormFields.tsx';
import {
  controlId,
  defaultExportFields,
  EXPORT_FIELDS,
  EXPORT_KINDS,
  newExport,
  newGroup,
  newParticipant,
  newStep,
  ROLES,
  ROOT_ALGORITHMS,
  type ParticipantDraft,
  type PlanDraft,
} from './PlanFormModel.ts';

const ROLE_TEXT: Record<(typeof ROLES)[number], string> = {
  administrator: 'administrator (runs it)',
  witness: 'witness (watches, confirms)',
  custodian: 'custodian (keeps a share)',
  auditor: 'auditor (checks the record)',
  observer: 'observer (watches only)',
};

const ALGORITHM_TEXT: Record<string, string> = {
  'aes-256': 'aes-256 (secret AES key)',
  'ec-p256': 'ec-p256 (elliptic curve P-256)',
  'ec-p384': 'ec-p384 (elliptic curve P-384)',
  'rsa-3072': 'rsa-3072 (RSA, 3072 bits)',
  'rsa-4096': 'rsa-4096 (RSA, 4096 bits; slow)',
  ed25519: 'ed25519 (Edwards curve, signing)',
};

const KIND_TEXT: Record<(typeof EXPORT_KINDS)[number], string> = {
  'aws-kms': 'aws-kms (AWS KMS)',
  'gcp-kms': 'gcp-kms (Google Cloud KMS)',
  'azure-byok': 'azure-byok (Azure Key Vault)',
  'vault-transit': 'vault-transit (HashiCorp Vault)',
};

/** How a participant reads in a tick list. */
const personText = (p: ParticipantDraft) => `${p.name.trim() || '(no name yet)'} (${p.id.trim() || 'no id'}, ${p.role})`;

function AddButton({ path, text, onAdd }: { path: string; text: string; onAdd(): void }) {
  return (
    <button type="button" className="secondary add" id={`${controlId(path)}-add`} onClick={onAdd}>
      {text}
    </button>
  );
}

/** Removes row `index` of a list and puts focus on the list's Add button (it always exists). */
function useRemove() {
  const { update, focusLater } = useForm();
  return (path: string, change: (d: PlanDraft) => void) => {
    update(change);
    focusLater(`${controlId(path)}-add`);
  };
}

export function ParticipantsSection() {
  const { draft, update, focusLater } = useForm();
  const remove = useRemove();
  return (
    <Section path="participants" title="People" intro="Everyone who takes part. Exactly one administrator runs the ceremony, at least one witness watches it, and each custodian keeps one backup share on paper. An id is short and has no spaces (e.g. c1).">
      {draft.participants.map((p, i) => (
        <Row
          key={p.uid}
          path={`participants[${i}]`}
          legend={`Participant ${i + 1}`}
          className="person"
          removeLabel={`Remove participant ${i + 1}`}
          onRemove={
            draft.participants.length > 1
              ? () =>
                  remove('participants', (d) => {
                    d.participants.splice(i, 1);
                    for (const g of d.backup.groups) g.custodians = g.custodians.filter((u) => u !== p.uid);
                    for (const s of d.steps) s.ackBy = s.ackBy.filter((u) => u !== p.uid);
                  })
              : undefined
          }
        >
          <TextInput path={`participants[${i}].id`} label="Id" value={p.id} set={(d, v) => (d.participants[i].id = v)} className="narrow" />
          <TextInput path={`participants[${i}].name`} label="Name" value={p.name} set={(d, v) => (d.participants[i].name = v)} />
          <Choice
            path={`participants[${i}].role`}
            label="Role"
            value={p.role}
            options={ROLES.map((r) => ({ value: r, text: ROLE_TEXT[r] }))}
            set={(d, v) => (d.participants[i].role = v as ParticipantDraft['role'])}
          />
        </Row>
      ))}
      <AddButton
        path="participants"
        text="Add a participant"
        onAdd={() => {
          const p = newParticipant('custodian');
          update((d) => void d.participants.push(p));
          focusLater(controlId(`participants[${draft.participants.length}].id`));
        }}
      />
    </Section>
  );
}

export function HsmKeySection() {
  const { draft } = useForm();
  return (
    <>
      <Section path="hsm" title="The HSM" intro="The HSM (hardware security module) is the device that makes the key and keeps it. Keyrite talks to it through its PKCS#11 module, a driver file from the vendor.">
        <TextInput path="hsm.module" label="PKCS#11 module" hint="Full path of the vendor's driver library, e.g. /usr/lib/softhsm/libsofthsm2.so." value={draft.hsm.module} set={(d, v) => (d.hsm.module = v)} />
        <div className="pair">
          <TextInput path="hsm.tokenLabel" label="Token label" hint="The name of the token (the HSM's slot or partition) to use." value={draft.hsm.tokenLabel} set={(d, v) => (d.hsm.tokenLabel = v)} />
          <TextInput path="hsm.tokenSerial" label="Token serial (optional)" hint="Picks the token by serial number. Give a label, a serial, or both." value={draft.hsm.tokenSerial} set={(d, v) => (d.hsm.tokenSerial = v)} />
        </div>
        <div className="pair">
          <TextInput path="hsm.slot" label="Slot (optional)" type="number" min={0} hint="Only where two tokens share both label and serial: the slot number that tells them apart." value={draft.hsm.slot} set={(d, v) => (d.hsm.slot = v)} />
          <TextInput path="hsm.initArgs" label="Module parameters (optional)" hint="Some modules need a parameter string when they start (C_Initialize), e.g. NSS's configdir='…'. Leave empty for most HSMs." value={draft.hsm.initArgs} set={(d, v) => (d.hsm.initArgs = v)} />
        </div>
      </Section>
      <Section path="key" title="The key" intro="The root key that this ceremony creates inside the HSM.">
        <div className="pair">
          <TextInput path="key.label" label="Key label" hint="The key's name inside the HSM; at most 64 characters." value={draft.key.label} set={(d, v) => (d.key.label = v)} />
          <Choice
            path="key.algorithm"
            label="Algorithm"
            hint="The kind of key. EC, RSA and Ed25519 keys sign; an AES key encrypts."
            value={draft.key.algorithm}
            options={ROOT_ALGORITHMS.map((a) => ({ value: a, text: ALGORITHM_TEXT[a] ?? a }))}
            set={(d, v) => (d.key.algorithm = v as PlanDraft['key']['algorithm'])}
          />
        </div>
        <Tick
          path="key.sealAfterExport"
          label="Seal the key after the exports — mark it non-extractable, so it can never be copied out of the HSM again"
          checked={draft.key.sealAfterExport}
          set={(d, v) => (d.key.sealAfterExport = v)}
        />
      </Section>
    </>
  );
}

export function BackupSection() {
  const { draft, update, focusLater } = useForm();
  const remove = useRemove();
  const groups = draft.backup.groups;
  return (
    <Section
      path="backup"
      title="Backup shares"
      intro="The key is backed up as SLIP-39 shares: paper sheets of 33 words, one per custodian. Custodians are put in groups; some groups, each with enough of its custodians, can restore the key."
    >
      <TextInput
        path="backup.groupThreshold"
        type="number"
        min={1}
        max={16}
        label="Group threshold — how many groups must come together to recover the key"
        hint={`There ${groups.length === 1 ? 'is 1 group' : `are ${groups.length} groups`}.`}
        value={draft.backup.groupThreshold}
        set={(d, v) => (d.backup.groupThreshold = v)}
        className="narrow"
      />
      <div id={controlId('backup.groups')} tabIndex={-1}>
        <Problems path="backup.groups" />
      </div>
      {groups.map((g, gi) => {
        const people = draft.participants.filter((p) => p.role === 'custodian' || g.custodians.includes(p.uid));
        return (
          <Row
            key={g.uid}
            path={`backup.groups[${gi}]`}
            legend={`Group ${gi + 1}`}
            removeLabel={`Remove group ${gi + 1}`}
            onRemove={groups.length > 1 ? () => remove('backup.groups', (d) => void d.backup.groups.splice(gi, 1)) : undefined}
          >
            <TextInput
              path={`backup.groups[${gi}].threshold`}
              type="number"
              min={1}
              max={16}
              label="Threshold — how many of this group's custodians must come together"
              hint={`${g.custodians.length} custodian${g.custodians.length === 1 ? '' : 's'} chosen below. With more than one, the threshold must be at least 2.`}
              value={g.threshold}
              set={(d, v) => (d.backup.groups[gi].threshold = v)}
              className="narrow span"
            />
            <PeoplePicker
              path={`backup.groups[${gi}].custodians`}
              legend="Custodians in this group — each gets one share sheet"
              people={people.map((p) => ({ uid: p.uid, text: personText(p) }))}
              chosen={g.custodians}
              set={(d, uids) => (d.backup.groups[gi].custodians = uids)}
              empty="No participant has the role custodian yet. Add them under People."
            />
          </Row>
        );
      })}
      <AddButton
        path="backup.groups"
        text="Add a group"
        onAdd={() => {
          update((d) => void d.backup.groups.push(newGroup()));
          focusLater(controlId(`backup.groups[${groups.length}].threshold`));
        }}
      />
      <TextInput
        path="backup.iterationExponent"
        type="number"
        min={0}
        max={15}
        label="Iteration exponent — how slow it is to try passphrases against the shares"
        hint="0 to 15; each step doubles the work for an attacker and for the recovery. Keep 1 unless you were told otherwise."
        value={draft.backup.iterationExponent}
        set={(d, v) => (d.backup.iterationExponent = v)}
        className="narrow"
      />
      <Tick
        path="backup.passphrase"
        label="Protect the shares with a passphrase as well — a recovery then needs the passphrase and the shares"
        checked={draft.backup.passphrase}
        set={(d, v) => (d.backup.passphrase = v)}
      />
    </Section>
  );
}

export function ExportsSection() {
  const { draft, update, focusLater } = useForm();
  const remove = useRemove();
  return (
    <Section
      path="exports"
      title="Exports (optional)"
      intro="Copies of the key for a cloud key service (KMS), wrapped: encrypted under the service's import key, so only that service can open them. File paths are relative to the folder the plan is saved in."
    >
      {draft.exports.map((e, i) => (
        <Row key={e.uid} path={`exports[${i}]`} legend={`Export ${i + 1}`} className="export" removeLabel={`Remove export ${i + 1}`} onRemove={() => remove('exports', (d) => void d.exports.splice(i, 1))}>
          <Choice
            path={`exports[${i}].kind`}
            label="Where it goes"
            value={e.kind}
            options={EXPORT_KINDS.map((k) => ({ value: k, text: KIND_TEXT[k] }))}
            set={(d, v) => {
              const kind = v as (typeof EXPORT_KINDS)[number];
              const { name = '', wrappingKey = '', wrappingKeySha256 = '' } = d.exports[i].fields;
              d.exports[i] = { ...d.exports[i], kind, fields: { name, wrappingKey, wrappingKeySha256, ...defaultExportFields(kind) } };
            }}
          />
          {EXPORT_FIELDS[e.kind].map((spec) => {
            const path = `exports[${i}].${spec.field}`;
            const set = (d: PlanDraft, v: string) => void (d.exports[i].fields[spec.field] = v);
            if (spec.choices) {
              const choices = spec.choices(draft.key.algorithm);
              const value = e.fields[spec.field] || choices[0] || '';
              // A value that no longer fits (the key's algorithm changed) stays visible, and the check says why.
              const options = choices.includes(value) ? choices : [value, ...choices];
              return <Choice key={spec.field} path={path} label={spec.label} hint={spec.hint} value={value} options={options} set={set} />;
            }
            return <TextInput key={spec.field} path={path} label={spec.label} hint={spec.hint} value={e.fields[spec.field] ?? ''} set={set} />;
          })}
        </Row>
      ))}
      <AddButton
        path="exports"
        text="Add an export"
        onAdd={() => {
          update((d) => void d.exports.push(newExport()));
          focusLater(controlId(`exports[${draft.exports.length}].kind`));
        }}
      />
    </Section>
  );
}

export function StepsSection() {
  const { draft, update, focusLater } = useForm();
  const remove = useRemove();
  const people = draft.participants.map((p) => ({ uid: p.uid, text: personText(p) }));
  return (
    <Section path="steps" title="Script (optional)" intro="Things people confirm before the key is made, shown one at a time, e.g. “The room is sealed and no phones are present.”">
      {draft.steps.map((s, i) => (
        <Row key={s.uid} path={`steps[${i}]`} legend={`Step ${i + 1}`} removeLabel={`Remove step ${i + 1}`} onRemove={() => remove('steps', (d) => void d.steps.splice(i, 1))}>
          <TextInput path={`steps[${i}].id`} label="Id" hint="Short, no spaces." value={s.id} set={(d, v) => (d.steps[i].id = v)} className="narrow" />
          <TextInput path={`steps[${i}].text`} label="What is confirmed" value={s.text} set={(d, v) => (d.steps[i].text = v)} multiline />
          <PeoplePicker
            path={`steps[${i}].ackBy`}
            legend="Confirmed by"
            people={people}
            chosen={s.ackBy}
            set={(d, uids) => (d.steps[i].ackBy = uids)}
            empty="Add participants first."
          />
        </Row>
      ))}
      <AddButton
        path="steps"
        text="Add a step"
        onAdd={() => {
          update((d) => void d.steps.push(newStep(d.steps.length + 1)));
          focusLater(controlId(`steps[${draft.steps.length}].text`));
        }}
      />
    </Section>
  );
}
