// The central gateway policy (issue 16 §4): what the security team asks of every managed
// gateway (and, optionally, of one gateway). Each gateway applies, setting by setting, the
// STRICTER of this and its own config, at its next sync, without a restart.
import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { DELETE, GET, PUT } from '../api/client';
import type { components } from '../api/schema.gen';
import { ErrorBox, SkeletonRows } from '../components/feedback';
import { formatDate } from '../format';
import { useCan } from '../session';

type PolicyView = components['schemas']['GatewayPolicyView'];
type Level = NonNullable<PolicyView['blockLevel']>;
const LEVELS: Level[] = ['low', 'medium', 'high', 'critical'];

interface Draft {
  blockLevel: Level | '';
  pinning: boolean;
  stripHiddenText: boolean;
  redactSecretsInResults: boolean;
  callsPerMinute: string;
}

const draftOf = (p: PolicyView): Draft => ({
  blockLevel: p.blockLevel && p.blockLevel !== 'none' ? p.blockLevel : '',
  pinning: p.pinning,
  stripHiddenText: p.stripHiddenText,
  redactSecretsInResults: p.redactSecretsInResults,
  callsPerMinute: p.callsPerMinute === null ? '' : String(p.callsPerMinute),
});

const bodyOf = (d: Draft) => ({
  blockLevel: d.blockLevel === '' ? null : d.blockLevel,
  pinning: d.pinning,
  stripHiddenText: d.stripHiddenText,
  redactSecretsInResults: d.redactSecretsInResults,
  ...(d.callsPerMinute.trim() ? { callsPerMinute: Number(d.callsPerMinute) } : {}),
});

function PolicyForm({ policy, onSave, saving, label }: { policy: PolicyView; onSave: (d: Draft) => void; saving: boolean; label: string }) {
  const can = useCan();
  const [d, setD] = useState<Draft>(() => draftOf(policy));
  useEffect(() => setD(draftOf(policy)), [policy]);
  const off = !can('settings:write') || saving;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSave(d);
  };
  const id = (s: string) => `${label.replace(/\W+/g, '-')}-${s}`;
  return (
    <form className="panel" onSubmit={submit} aria-label={label}>
      <label htmlFor={id('level')}>Block tools rated at or above</label>
      <select id={id('level')} value={d.blockLevel} disabled={off} onChange={(e) => setD({ ...d, blockLevel: e.target.value as Level | '' })}>
        <option value="">(the gateway’s own setting)</option>
        {LEVELS.map((l) => (
          <option key={l} value={l}>
            {l}
          </option>
        ))}
      </select>
      <label>
        <input type="checkbox" checked={d.pinning} disabled={off} onChange={(e) => setD({ ...d, pinning: e.target.checked })} /> Pin tool definitions
        (quarantine a changed tool until it is reviewed)
      </label>
      <label>
        <input type="checkbox" checked={d.stripHiddenText} disabled={off} onChange={(e) => setD({ ...d, stripHiddenText: e.target.checked })} /> Strip hidden
        characters and ANSI escapes from tool definitions
      </label>
      <label>
        <input type="checkbox" checked={d.redactSecretsInResults} disabled={off} onChange={(e) => setD({ ...d, redactSecretsInResults: e.target.checked })} />{' '}
        Redact secrets in tool results
      </label>
      <label htmlFor={id('cpm')}>Calls per minute per principal, at most (empty: the gateway’s own limit)</label>
      <input
        id={id('cpm')}
        type="number"
        min={1}
        max={1000000}
        step={1}
        value={d.callsPerMinute}
        disabled={off}
        onChange={(e) => setD({ ...d, callsPerMinute: e.target.value })}
      />
      <p className="muted">
        {policy.updatedAt
          ? `Last changed ${formatDate(policy.updatedAt)} by ${policy.updatedBy ?? 'unknown'}.`
          : 'Not set yet: it asks nothing of the gateways.'}
      </p>
      {can('settings:write') && (
        <button type="submit" disabled={saving}>
          Save
        </button>
      )}
    </form>
  );
}

export function GatewayPolicyPage() {
  const qc = useQueryClient();
  const can = useCan();
  const q = useQuery({ queryKey: ['gateway-policy'], queryFn: () => GET('/api/v1/gateway-policy') });
  const names = useQuery({ queryKey: ['gateway-names'], queryFn: () => GET('/api/v1/gateways', { query: { limit: 200 } }), staleTime: 60_000 });
  const [pick, setPick] = useState('');
  const done = () => qc.invalidateQueries({ queryKey: ['gateway-policy'] });
  const saveOrg = useMutation({ mutationFn: (d: Draft) => PUT('/api/v1/gateway-policy', { body: bodyOf(d) }), onSuccess: done });
  const saveOne = useMutation({
    mutationFn: ({ id, d }: { id: string; d: Draft }) => PUT('/api/v1/gateways/{id}/policy', { path: { id }, body: bodyOf(d) }),
    onSuccess: done,
  });
  const remove = useMutation({ mutationFn: (id: string) => DELETE('/api/v1/gateways/{id}/policy', { path: { id } }), onSuccess: done });
  if (q.error) return <ErrorBox error={q.error} />;
  if (!q.data) return <SkeletonRows cols={1} rows={3} />;
  const withOwn = new Set(q.data.gateways.map((g) => g.gatewayId));
  const others = (names.data?.items ?? []).filter((g) => !g.revokedAt && !withOwn.has(g.id));
  return (
    <div>
      <p>
        The security team’s policy for managed gateways. Each gateway applies, setting by setting, the <strong>stricter</strong> of this policy and its own
        config, at its next sync and without a restart; it keeps the last policy it received, so a restart without this server still enforces it.
      </p>
      <p className="muted">
        A central policy can tighten a gateway but never loosen what its operator configured: the operator may know of an upstream or a client that needs the
        stricter setting, and nobody who reaches this dashboard can open a gateway up remotely. An unchecked box or an empty field asks nothing.
      </p>
      <ErrorBox error={saveOrg.error ?? saveOne.error ?? remove.error} title="The policy was not saved" />
      <h2>Every gateway of the organisation</h2>
      <PolicyForm policy={q.data.organisation} onSave={(d) => saveOrg.mutate(d)} saving={saveOrg.isPending} label="Organisation gateway policy" />
      <h2>Gateways with their own policy</h2>
      <p className="muted">A gateway’s own policy replaces the organisation’s for that gateway.</p>
      {q.data.gateways.map((g) => (
        <div key={g.gatewayId}>
          <h3>{g.gatewayName}</h3>
          <PolicyForm
            policy={g}
            onSave={(d) => saveOne.mutate({ id: g.gatewayId!, d })}
            saving={saveOne.isPending}
            label={`Policy of gateway ${g.gatewayName}`}
          />
          {can('settings:write') && (
            <button type="button" className="secondary" disabled={remove.isPending} onClick={() => remove.mutate(g.gatewayId!)}>
              Follow the organisation’s policy again
            </button>
          )}
        </div>
      ))}
      {can('settings:write') && others.length > 0 && (
        <div className="inline-form">
          <label>
            Give a gateway its own policy
            <select value={pick} onChange={(e) => setPick(e.target.value)}>
              <option value="">Choose a gateway</option>
              {others.map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            disabled={!pick || saveOne.isPending}
            onClick={() => {
              saveOne.mutate({ id: pick, d: draftOf(q.data.organisation) });
              setPick('');
            }}
          >
            Start from the organisation’s policy
          </button>
        </div>
      )}
    </div>
  );
}
