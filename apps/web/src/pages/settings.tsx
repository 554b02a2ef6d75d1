import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { endpoints, type Scope } from '@tandem/contracts';
import { ApiFailure, call, type ResponseOf } from '../api';
import { formatDate, formatDateTime } from '../lib/format';
import { AuditCard, WebhooksCard } from './settings-webhooks';
import {
  Badge,
  Button,
  Card,
  CopyButton,
  EmptyState,
  ErrorNote,
  Field,
  Modal,
  PageHeader,
  Pager,
  SelectField,
  Skeleton,
  Table,
  usePager,
  useToast,
} from '../ui/kit';

type CreatedKey = ResponseOf<typeof endpoints.createApiKey>;

function MembersCard() {
  const pager = usePager();
  const members = useQuery({
    queryKey: ['members', pager.cursor],
    queryFn: () => call(endpoints.listMembers, { query: { cursor: pager.cursor } }),
  });
  return (
    <Card title="Members">
      {members.isPending ? (
        <Skeleton />
      ) : members.error ? (
        <ErrorNote error={members.error} />
      ) : (
        <>
          <Table
            label="Members"
            rows={members.data.data}
            rowKey={(m) => m.userId}
            columns={[
              { header: 'Name', cell: (m) => <span className="font-medium text-slate-900 dark:text-white">{m.name}</span> },
              { header: 'Email', cell: (m) => m.email },
              { header: 'Role', cell: (m) => <Badge tone={m.role === 'owner' ? 'indigo' : 'slate'}>{m.role}</Badge> },
              { header: 'Joined', cell: (m) => formatDate(m.joinedAt) },
            ]}
          />
          <Pager pager={pager} nextCursor={members.data.nextCursor} />
        </>
      )}
    </Card>
  );
}

function InvitationsCard() {
  const queryClient = useQueryClient();
  const toast = useToast();
  const invitations = useQuery({ queryKey: ['invitations'], queryFn: () => call(endpoints.listInvitations, { query: { limit: 50 } }) });
  const [lastLink, setLastLink] = useState<string>();
  const invite = useMutation({
    mutationFn: (body: { email: string; role: 'admin' | 'member' }) => call(endpoints.createInvitation, { body }),
    onSuccess: (created) => {
      setLastLink(created.acceptUrl);
      toast(`Invitation created for ${created.email}`);
      void queryClient.invalidateQueries({ queryKey: ['invitations'] });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => call(endpoints.revokeInvitation, { params: { id } }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['invitations'] }),
  });
  const emailError = invite.error instanceof ApiFailure ? invite.error.fieldError('email') : undefined;
  return (
    <Card title="Invite teammates">
      <form
        className="flex flex-wrap items-end gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          invite.mutate({ email: String(form.get('email')), role: form.get('role') as 'admin' | 'member' });
        }}
      >
        <Field label="Email" name="email" type="email" required className="min-w-56 flex-1" error={emailError} />
        <SelectField label="Role" name="role" defaultValue="member">
          <option value="member">Member</option>
          <option value="admin">Admin</option>
        </SelectField>
        <Button type="submit" busy={invite.isPending}>
          Send invitation
        </Button>
      </form>
      {invite.error && !emailError ? (
        <div className="mt-3">
          <ErrorNote error={invite.error} />
        </div>
      ) : null}
      {lastLink && (
        <div className="mt-4 flex flex-wrap items-center gap-2 rounded-lg bg-indigo-50 p-3 text-sm dark:bg-indigo-950">
          <span>Share this link with your teammate (it is also in the server log):</span>
          <code className="break-all">{lastLink}</code>
          <CopyButton value={lastLink} />
        </div>
      )}
      <div className="mt-5">
        {invitations.isPending ? (
          <Skeleton rows={2} />
        ) : invitations.error ? (
          <ErrorNote error={invitations.error} />
        ) : invitations.data.data.length === 0 ? (
          <p className="text-sm text-slate-500">No invitations yet. Invite the people who manage partners with you.</p>
        ) : (
          <Table
            label="Invitations"
            rows={invitations.data.data}
            rowKey={(i) => i.id}
            columns={[
              { header: 'Email', cell: (i) => i.email },
              { header: 'Role', cell: (i) => i.role },
              {
                header: 'Status',
                cell: (i) => (
                  <Badge tone={i.status === 'pending' ? 'amber' : i.status === 'accepted' ? 'green' : 'slate'}>{i.status}</Badge>
                ),
              },
              { header: 'Expires', cell: (i) => formatDate(i.expiresAt) },
              {
                header: '',
                cell: (i) =>
                  i.status === 'pending' ? (
                    <Button variant="ghost" onClick={() => revoke.mutate(i.id)} aria-label={`Revoke invitation for ${i.email}`}>
                      Revoke
                    </Button>
                  ) : null,
              },
            ]}
          />
        )}
      </div>
    </Card>
  );
}

const allScopes: Scope[] = ['read', 'write', 'admin'];

function ApiKeysCard() {
  const queryClient = useQueryClient();
  const pager = usePager();
  const keys = useQuery({
    queryKey: ['api-keys', pager.cursor],
    queryFn: () => call(endpoints.listApiKeys, { query: { cursor: pager.cursor } }),
  });
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedKey>();
  const create = useMutation({
    mutationFn: (body: { name: string; scopes: Scope[] }) => call(endpoints.createApiKey, { body }),
    onSuccess: (key) => {
      setCreating(false);
      setCreated(key);
      void queryClient.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => call(endpoints.revokeApiKey, { params: { id } }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['api-keys'] }),
  });
  return (
    <Card title="API keys" actions={<Button onClick={() => setCreating(true)}>New API key</Button>}>
      {keys.isPending ? (
        <Skeleton rows={2} />
      ) : keys.error ? (
        <ErrorNote error={keys.error} />
      ) : keys.data.data.length === 0 ? (
        <EmptyState title="No API keys yet">Create a key to track sales from your backend or to script Tandem.</EmptyState>
      ) : (
        <>
          <Table
            label="API keys"
            rows={keys.data.data}
            rowKey={(k) => k.id}
            columns={[
              { header: 'Name', cell: (k) => <span className="font-medium text-slate-900 dark:text-white">{k.name}</span> },
              { header: 'Key', cell: (k) => <code className="text-xs">{k.prefix}…</code> },
              {
                header: 'Scopes',
                cell: (k) => (
                  <span className="flex gap-1">
                    {k.scopes.map((s) => (
                      <Badge key={s}>{s}</Badge>
                    ))}
                  </span>
                ),
              },
              { header: 'Last used', cell: (k) => formatDateTime(k.lastUsedAt) },
              {
                header: '',
                cell: (k) =>
                  k.revokedAt ? (
                    <Badge tone="rose">revoked</Badge>
                  ) : (
                    <Button variant="ghost" onClick={() => revoke.mutate(k.id)} aria-label={`Revoke ${k.name}`}>
                      Revoke
                    </Button>
                  ),
              },
            ]}
          />
          <Pager pager={pager} nextCursor={keys.data.nextCursor} />
        </>
      )}
      <Modal open={creating} title="New API key" onClose={() => setCreating(false)}>
        <form
          className="space-y-4"
          onSubmit={(e) => {
            e.preventDefault();
            const form = new FormData(e.currentTarget);
            create.mutate({ name: String(form.get('name')), scopes: allScopes.filter((s) => form.get(`scope-${s}`)) });
          }}
        >
          <Field
            label="Name"
            name="name"
            placeholder="Checkout backend"
            required
            error={create.error instanceof ApiFailure ? create.error.fieldError('name') : undefined}
          />
          <fieldset>
            <legend className="mb-1 text-sm font-medium">Scopes</legend>
            <div className="flex gap-4">
              {allScopes.map((s) => (
                <label key={s} className="flex items-center gap-2 text-sm">
                  <input type="checkbox" name={`scope-${s}`} defaultChecked={s !== 'admin'} /> {s}
                </label>
              ))}
            </div>
            {create.error instanceof ApiFailure && create.error.fieldError('scopes') && (
              <p role="alert" className="mt-1 text-xs text-rose-600">
                {create.error.fieldError('scopes')}
              </p>
            )}
          </fieldset>
          <Button type="submit" busy={create.isPending}>
            Create key
          </Button>
        </form>
      </Modal>
      <Modal open={Boolean(created)} title="Copy your new key now" onClose={() => setCreated(undefined)}>
        <p className="mb-3 text-sm text-slate-600 dark:text-slate-400">
          This is the only time Tandem shows the whole key. Store it in your secrets manager.
        </p>
        <div className="flex items-center gap-2 rounded-lg bg-slate-100 p-3 dark:bg-slate-800">
          <code className="flex-1 break-all text-xs" data-testid="new-api-key">
            {created?.key}
          </code>
          {created && <CopyButton value={created.key} />}
        </div>
        <Button className="mt-4" variant="secondary" onClick={() => setCreated(undefined)}>
          I have stored it
        </Button>
      </Modal>
    </Card>
  );
}

export function SettingsPage() {
  return (
    <>
      <PageHeader title="Settings" description="Your team, the keys and webhooks your systems use, and the audit trail." />
      <div className="space-y-6">
        <MembersCard />
        <InvitationsCard />
        <ApiKeysCard />
        <WebhooksCard />
        <AuditCard />
      </div>
    </>
  );
}
