import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { endpoints, type Partnership } from '@tandem/contracts';
import { ApiFailure, call, type BodyOf } from '../api';
import { formatMoney, formatNumber } from '../lib/format';
import { useMe } from '../lib/session';
import { Badge, Button, Card, EmptyState, ErrorNote, Field, Modal, PageHeader, SelectField, Skeleton, useToast } from '../ui/kit';
import { usePrograms } from './partners';

function InviteModal({ open, onClose }: { open: boolean; onClose: () => void }) {
  const programs = usePrograms();
  const queryClient = useQueryClient();
  const toast = useToast();
  const create = useMutation({
    mutationFn: (body: BodyOf<typeof endpoints.createPartnership>) => call(endpoints.createPartnership, { body }),
    onSuccess: () => {
      toast('Invitation sent');
      void queryClient.invalidateQueries({ queryKey: ['partnerships'] });
      onClose();
    },
  });
  const err = (f: string) => (create.error instanceof ApiFailure ? create.error.fieldError(f) : undefined);
  return (
    <Modal open={open} title="Invite a brand" onClose={onClose}>
      <form
        className="space-y-4"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const f = new FormData(e.currentTarget);
          const who = String(f.get('who')).trim();
          const target = String(f.get('target') ?? '');
          create.mutate({
            ...(who.includes('@') ? { inviteEmail: who } : { inviteWorkspaceSlug: who }),
            programId: String(f.get('programId')),
            ...(f.get('message') ? { message: String(f.get('message')) } : {}),
            ...(target ? { agreement: { reciprocityTargetPct: Number(target) } } : {}),
          });
        }}
      >
        <Field
          label="Brand to invite"
          name="who"
          placeholder="their-workspace-slug or owner@brand.com"
          required
          error={err('inviteWorkspaceSlug') ?? err('inviteEmail')}
        />
        <SelectField label="Your program they will promote" name="programId" error={err('programId')}>
          {programs.data?.data.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </SelectField>
        <Field
          label="Keep traffic balanced within (%)"
          name="target"
          type="number"
          min={0}
          max={100}
          defaultValue={20}
          error={err('agreement.reciprocityTargetPct')}
        />
        <Field label="Message" name="message" placeholder="Let's cross-promote this spring" />
        {create.error && !['inviteWorkspaceSlug', 'inviteEmail', 'programId'].some(err) ? <ErrorNote error={create.error} /> : null}
        <Button type="submit" busy={create.isPending}>
          Send invitation
        </Button>
      </form>
    </Modal>
  );
}

/** Both directions of a reciprocal partnership, from the same figures each member sees. */
function BalanceView({ partnership }: { partnership: Partnership }) {
  const balance = useQuery({
    queryKey: ['partnership-balance', partnership.id],
    queryFn: () => call(endpoints.getPartnershipBalance, { params: { id: partnership.id } }),
  });
  const name = (id: string | null) => partnership.members.find((m) => m.workspaceId === id)?.name ?? id ?? '—';
  if (balance.isPending) return <Skeleton rows={3} />;
  if (balance.error) return <ErrorNote error={balance.error} />;
  const b = balance.data;
  const maxClicks = Math.max(1, ...b.directions.map((d) => d.clicks));
  return (
    <div className="space-y-4">
      <ul className="grid gap-4 md:grid-cols-2" aria-label="Directions">
        {b.directions.map((d) => (
          <li key={`${d.fromWorkspaceId}-${d.toWorkspaceId}`} className="rounded-lg bg-slate-50 p-4 dark:bg-slate-800">
            <p className="text-sm font-medium">
              {name(d.fromWorkspaceId)} → {name(d.toWorkspaceId)}
            </p>
            <div className="mt-2 h-2 rounded-full bg-slate-200 dark:bg-slate-700" aria-hidden>
              <div className="h-2 rounded-full bg-indigo-500" style={{ width: `${(d.clicks / maxClicks) * 100}%` }} />
            </div>
            <dl className="mt-3 grid grid-cols-2 gap-2 text-sm">
              <dt className="text-slate-500">Clicks sent</dt>
              <dd className="tabular-nums">{formatNumber(d.clicks)}</dd>
              <dt className="text-slate-500">Referrals</dt>
              <dd className="tabular-nums">{formatNumber(d.referrals)}</dd>
              <dt className="text-slate-500">Revenue driven</dt>
              <dd className="tabular-nums">{formatMoney(d.revenue, d.currency)}</dd>
              <dt className="text-slate-500">Commissions earned</dt>
              <dd className="tabular-nums">{formatMoney(d.commissions, d.currency)}</dd>
            </dl>
          </li>
        ))}
      </ul>
      <div className="flex flex-wrap gap-3 text-sm">
        {b.nets.map((n, i) => (
          <p key={i} className="rounded-lg bg-indigo-50 px-3 py-2 dark:bg-indigo-950" data-testid="net">
            {n.amount === 0 || !n.owedByWorkspaceId
              ? `Even in ${n.currency}`
              : `${name(n.owedByWorkspaceId)} owes ${name(n.owedToWorkspaceId)} ${formatMoney(n.amount, n.currency)} after netting`}
          </p>
        ))}
        {b.reciprocity.map((r) => (
          <p key={r.workspaceIds.join()} className="rounded-lg bg-slate-100 px-3 py-2 dark:bg-slate-800">
            Traffic imbalance {r.imbalancePct.toFixed(1)}%{' '}
            {r.withinTarget === null ? null : (
              <Badge tone={r.withinTarget ? 'green' : 'amber'}>{r.withinTarget ? 'within target' : 'outside target'}</Badge>
            )}
          </p>
        ))}
      </div>
    </div>
  );
}

function PartnershipCard({ partnership, myWorkspaceId }: { partnership: Partnership; myWorkspaceId: string | undefined }) {
  const programs = usePrograms();
  const queryClient = useQueryClient();
  const toast = useToast();
  const me = partnership.members.find((m) => m.workspaceId === myWorkspaceId);
  const others = partnership.members.filter((m) => m.workspaceId !== myWorkspaceId);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['partnerships'] });
  const accept = useMutation({
    mutationFn: (programId: string) => call(endpoints.acceptPartnership, { params: { id: partnership.id }, body: { programId } }),
    onSuccess: () => (toast('Partnership active'), refresh()),
  });
  const decline = useMutation({
    mutationFn: () => call(endpoints.declinePartnership, { params: { id: partnership.id } }),
    onSuccess: refresh,
  });
  return (
    <Card
      title={`With ${others.map((o) => o.name).join(', ')}`}
      actions={
        <span className="flex gap-2">
          <Badge tone={partnership.status === 'active' ? 'green' : 'amber'}>{partnership.status}</Badge>
          {partnership.agreement.reciprocityTargetPct !== undefined && <Badge>target ±{partnership.agreement.reciprocityTargetPct}%</Badge>}
        </span>
      }
    >
      {partnership.message && <p className="mb-4 text-sm text-slate-600 dark:text-slate-400">“{partnership.message}”</p>}
      {me?.status === 'invited' ? (
        <form
          className="flex flex-wrap items-end gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            accept.mutate(String(new FormData(e.currentTarget).get('programId')));
          }}
        >
          <SelectField label="Your program they will promote" name="programId" className="min-w-56">
            {programs.data?.data.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </SelectField>
          <Button type="submit" busy={accept.isPending}>
            Accept partnership
          </Button>
          <Button type="button" variant="ghost" busy={decline.isPending} onClick={() => decline.mutate()}>
            Decline
          </Button>
          {accept.error ? <ErrorNote error={accept.error} /> : null}
        </form>
      ) : partnership.status === 'active' ? (
        <BalanceView partnership={partnership} />
      ) : (
        <p className="text-sm text-slate-500">
          Waiting for{' '}
          {others
            .filter((o) => o.status === 'invited')
            .map((o) => o.name)
            .join(', ')}{' '}
          to accept.
        </p>
      )}
    </Card>
  );
}

export function PartnershipsPage() {
  const me = useMe();
  const [inviting, setInviting] = useState(false);
  const partnerships = useQuery({ queryKey: ['partnerships'], queryFn: () => call(endpoints.listPartnerships, { query: { limit: 50 } }) });
  return (
    <>
      <PageHeader
        title="Partnerships"
        description={
          <>
            Cross-promote with other brands: each promotes the other, and both see the same balance both ways. Your workspace slug is{' '}
            <code>{me.data?.workspace?.slug}</code>.
          </>
        }
        actions={<Button onClick={() => setInviting(true)}>Invite a brand</Button>}
      />
      {partnerships.isPending ? (
        <Skeleton rows={4} />
      ) : partnerships.error ? (
        <ErrorNote error={partnerships.error} />
      ) : partnerships.data.data.length === 0 ? (
        <EmptyState title="No partnerships yet" action={<Button onClick={() => setInviting(true)}>Invite a brand</Button>}>
          Invite a brand whose customers would love yours. Each of you becomes a partner in the other’s program.
        </EmptyState>
      ) : (
        <div className="space-y-6">
          {partnerships.data.data.map((p) => (
            <PartnershipCard key={p.id} partnership={p} myWorkspaceId={me.data?.workspace?.id} />
          ))}
        </div>
      )}
      <InviteModal open={inviting} onClose={() => setInviting(false)} />
    </>
  );
}
