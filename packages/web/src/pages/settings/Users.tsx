import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { DELETE, GET, PATCH, POST } from '../../api/client';
import { ROLES, type Invitation, type Role, type User } from '../../api/types';
import { CopyButton } from '../../components/CopyButton';
import { ErrorBox, SkeletonRows } from '../../components/feedback';
import { formatDate, timeAgo } from '../../format';
import { useCan, useSession } from '../../session';

export function UsersSettings() {
  const can = useCan();
  const me = useSession();
  const qc = useQueryClient();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('analyst');
  const [invited, setInvited] = useState<Invitation | null>(null);
  const users = useQuery({ queryKey: ['users'], queryFn: () => GET('/api/v1/users', { query: { limit: 200 } }) });
  const invites = useQuery({
    queryKey: ['invitations'],
    queryFn: () => GET('/api/v1/invitations', { query: { limit: 200 } }),
    enabled: can('users:invite'),
  });
  const refresh = () => Promise.all([qc.invalidateQueries({ queryKey: ['users'] }), qc.invalidateQueries({ queryKey: ['invitations'] })]);
  const invite = useMutation({
    mutationFn: () => POST('/api/v1/invitations', { body: { email: email.trim(), role } }),
    onSuccess: (inv) => {
      setInvited(inv);
      setEmail('');
      return refresh();
    },
  });
  const changeRole = useMutation({
    mutationFn: (v: { id: string; role: Role }) => PATCH('/api/v1/users/{id}', { path: { id: v.id }, body: { role: v.role } }),
    onSuccess: refresh,
  });
  const remove = useMutation({ mutationFn: (id: string) => DELETE('/api/v1/users/{id}', { path: { id } }), onSuccess: refresh });
  const revokeInvite = useMutation({ mutationFn: (id: string) => DELETE('/api/v1/invitations/{id}', { path: { id } }), onSuccess: refresh });

  const isOwner = me.user.role === 'owner';
  const grantable = ROLES.filter((r) => r !== 'owner' || isOwner);
  // admins cannot change or remove an owner; nobody edits themselves here
  const canEdit = (u: User) => can('users:manage') && u.id !== me.user.id && (u.role !== 'owner' || isOwner);
  const inviteLink = invited?.link ? new URL(invited.link, window.location.origin).toString() : null;

  return (
    <div>
      <p>
        Roles: <strong>viewer</strong> reads, <strong>analyst</strong> also handles alerts, <strong>admin</strong> also manages keys, users, webhooks and
        accepted risks, <strong>owner</strong> also manages owners.
      </p>
      {can('users:invite') && (
        <form className="inline-form" onSubmit={(e: FormEvent) => (e.preventDefault(), invite.mutate())}>
          <label>
            Email to invite
            <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
          <label>
            Role
            <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {grantable.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" disabled={invite.isPending}>
            Invite
          </button>
        </form>
      )}
      <ErrorBox error={invite.error} title="The invitation was not created" />
      {invited && inviteLink && (
        <div className="panel" role="status">
          <p>
            Send this link to {invited.email}. It works once, until {formatDate(invited.expiresAt)}, and is shown only now.
          </p>
          <div className="copy-row">
            <code className="block">{inviteLink}</code>
            <CopyButton text={inviteLink} label="Copy link" />
          </div>
        </div>
      )}
      <ErrorBox error={users.error ?? changeRole.error ?? remove.error ?? revokeInvite.error} title="That did not work" />
      <h2>Users</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            <th scope="col">Member since</th>
            <th scope="col">Last sign-in</th>
            {can('users:manage') && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {users.isPending && <SkeletonRows cols={4} rows={3} />}
          {users.data?.items.map((u) => (
            <tr key={u.id}>
              <td>
                {u.email}
                {u.id === me.user.id && <span className="muted"> (you)</span>}
              </td>
              <td>
                {canEdit(u) ? (
                  <select
                    aria-label={`Role of ${u.email}`}
                    value={u.role}
                    disabled={changeRole.isPending}
                    onChange={(e) => changeRole.mutate({ id: u.id, role: e.target.value as Role })}
                  >
                    {grantable.map((r) => (
                      <option key={r} value={r}>
                        {r}
                      </option>
                    ))}
                  </select>
                ) : (
                  u.role
                )}
              </td>
              <td>{formatDate(u.createdAt)}</td>
              <td>{timeAgo(u.lastLoginAt)}</td>
              {can('users:manage') && (
                <td>
                  {canEdit(u) && (
                    <button
                      type="button"
                      className="danger"
                      aria-label={`Remove ${u.email}`}
                      onClick={() => {
                        if (window.confirm(`Remove ${u.email}? Their sessions end at once.`)) remove.mutate(u.id);
                      }}
                    >
                      Remove
                    </button>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {can('users:invite') && invites.data && invites.data.items.some((i) => !i.acceptedAt && !i.revokedAt) && (
        <>
          <h2>Pending invitations</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Expires</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {invites.data.items
                .filter((i) => !i.acceptedAt && !i.revokedAt)
                .map((i) => (
                  <tr key={i.id}>
                    <td>{i.email}</td>
                    <td>{i.role}</td>
                    <td>{formatDate(i.expiresAt)}</td>
                    <td>
                      <button type="button" className="secondary" onClick={() => revokeInvite.mutate(i.id)} aria-label={`Cancel invitation of ${i.email}`}>
                        Cancel invitation
                      </button>
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
