import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { endpoints, type Partnership } from '@tandem/contracts';
import { ApiFailure, call, type BodyOf, type ResponseOf } from '../api';
import { formatDate, formatMoney, formatNumber } from '../lib/format';
import { useMe } from '../lib/session';
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
type Balance = ResponseOf<typeof endpoints.getPartnershipBalance>;

/** Both directions and the net: the same figures every member (and a share link) sees. */
export function DirectionsView({
  directions,
  nets,
  name,
}: Pick<Balance, 'directions' | 'nets'> & { name: (workspaceId: string | null) => string }) {
  const maxClicks = Math.max(1, ...directions.map((d) => d.clicks));
  return (
    <>
      <ul className="grid gap-4 md:grid-cols-2" aria-label="Directions">
        {directions.map((d) => (
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
              <dt className="text-slate-500">Still owed</dt>
              <dd className="tabular-nums">{formatMoney(d.outstanding, d.currency)}</dd>
            </dl>
          </li>
        ))}
      </ul>
      <div className="mt-4 flex flex-wrap gap-3 text-sm">
        {nets.map((n, i) => (
          <p key={i} className="rounded-lg bg-indigo-50 px-3 py-2 dark:bg-indigo-950" data-testid="net">
            {n.amount === 0 || !n.owedByWorkspaceId
              ? `Even in ${n.currency}`
              : `${name(n.owedByWorkspaceId)} owes ${name(n.owedToWorkspaceId)} ${formatMoney(n.amount, n.currency)} after netting`}
          </p>
        ))}
      </div>
    </>
  );
}

function BalanceView({ partnership }: { partnership: Partnership }) {
  const balance = useQuery({
    queryKey: ['partnership-balance', partnership.id],
    queryFn: () => call(endpoints.getPartnershipBalance, { params: { id: partnership.id } }),
  });
  const name = (id: string | null) => partnership.members.find((m) => m.workspaceId === id)?.name ?? id ?? '—';
  if (balance.isPending) return <Skeleton rows={3} />;
  if (balance.error) return <ErrorNote error={balance.error} />;
  const b = balance.data;
  return (
    <div className="space-y-4">
      <DirectionsView directions={b.directions} nets={b.nets} name={name} />
      <div className="flex flex-wrap gap-3 text-sm">
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

type Settlement = ResponseOf<typeof endpoints.listPartnershipSettlements>['data'][number];

/**
 * Settling by netting: what each brand owes the other is offset, and only the difference is paid,
 * by a pending payout in the paying brand's Payouts (one per partner row it pays, usually one). Lists this brand's settlements, newest first.
 */
function SettlementsView({ partnership }: { partnership: Partnership }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const pager = usePager();
  const name = (id: string | null) => partnership.members.find((m) => m.workspaceId === id)?.name ?? id ?? '—';
  const settlements = useQuery({
    queryKey: ['partnership-settlements', partnership.id, pager.cursor],
    queryFn: () => call(endpoints.listPartnershipSettlements, { params: { id: partnership.id }, query: { limit: 10, ...(pager.cursor ? { cursor: pager.cursor } : {}) } }),
  });
  const settle = useMutation({
    mutationFn: () => call(endpoints.settlePartnership, { params: { id: partnership.id }, body: {} }),
    onSuccess: (result) => {
      const mismatched = result.skipped.filter((s) => s.reason === 'currency_mismatch').length;
      toast(
        result.data.length === 0
          ? `Nothing to net: no payable commissions either way${mismatched ? ' (programs in other currencies never net)' : ''}`
          : `Settled ${result.data.length === 1 ? 'one pair' : `${result.data.length} pairs`} by netting`,
      );
      pager.reset();
      for (const key of ['partnership-settlements', 'partnership-balance', 'payouts']) void queryClient.invalidateQueries({ queryKey: [key] });
    },
  });
  const columns = [
    { header: 'Settled', cell: (s: Settlement) => formatDate(s.createdAt) },
    {
      header: 'Owed each way',
      cell: (s: Settlement) => (
        <span className="flex flex-col">
          {s.gross.map((g) => (
            <span key={g.owedByWorkspaceId}>
              {name(g.owedByWorkspaceId)}: <span className="tabular-nums">{formatMoney(g.amount, s.currency)}</span>
            </span>
          ))}
        </span>
      ),
    },
    { header: 'Offset', cell: (s: Settlement) => <span className="tabular-nums">{formatMoney(s.offset, s.currency)}</span> },
    {
      header: 'Net payout',
      cell: (s: Settlement) =>
        s.net.owedByWorkspaceId === null ? (
          <Badge tone="green">even: no payout</Badge>
        ) : (
          <span>
            {name(s.net.owedByWorkspaceId)} pays {name(s.net.owedToWorkspaceId)} <span className="tabular-nums">{formatMoney(s.net.amount, s.currency)}</span>
          </span>
        ),
    },
  ];
  return (
    <section className="mt-6 space-y-3" aria-label="Settlements">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <h3 className="text-sm font-semibold">Settlements</h3>
          <p className="text-xs text-slate-500">Payable commissions both ways are offset; only the difference is paid, as a payout.</p>
        </div>
        <Button variant="secondary" busy={settle.isPending} onClick={() => settle.mutate()}>
          Settle by netting
        </Button>
      </div>
      {settle.error ? <ErrorNote error={settle.error} /> : null}
      {settlements.isPending ? (
        <Skeleton rows={2} />
      ) : settlements.error ? (
        <ErrorNote error={settlements.error} />
      ) : settlements.data.data.length === 0 ? (
        <p className="text-sm text-slate-500">No settlements yet.</p>
      ) : (
        <>
          <Table rows={settlements.data.data} columns={columns} rowKey={(s) => s.id} label="Settlements" />
          <Pager pager={pager} nextCursor={settlements.data.nextCursor} />
        </>
      )}
    </section>
  );
}

const expiryChoices = [7, 30, 90] as const;

/** Makes a read-only public link to the dashboard (shown once) and lists this brand's links to revoke them. */
function ShareModal({ partnership, open, onClose }: { partnership: Partnership; open: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const [days, setDays] = useState<number>(30);
  const links = useQuery({
    queryKey: ['share-links', partnership.id],
    queryFn: () => call(endpoints.listPartnershipShareLinks, { params: { id: partnership.id } }),
    enabled: open,
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['share-links', partnership.id] });
  const create = useMutation({
    mutationFn: () => call(endpoints.createPartnershipShareLink, { params: { id: partnership.id }, body: { expiresInDays: days } }),
    onSuccess: refresh,
  });
  const revoke = useMutation({
    mutationFn: (linkId: string) => call(endpoints.revokePartnershipShareLink, { params: { id: partnership.id, linkId } }),
    onSuccess: () => (toast('Share link revoked'), refresh()),
  });
  const live = (links.data?.data ?? []).filter((l) => !l.revokedAt && Date.parse(l.expiresAt) > Date.now());
  return (
    <Modal
      open={open}
      title="Share this dashboard"
      onClose={() => {
        create.reset();
        onClose();
      }}
    >
      <div className="space-y-4 text-sm">
        <p className="text-slate-600 dark:text-slate-400">
          Anyone with the link sees the balance both ways, the net and a daily series — no customers, no emails. Revoke it any time.
        </p>
        {create.data ? (
          <div className="space-y-2 rounded-lg bg-emerald-50 p-3 dark:bg-emerald-950">
            <p className="font-medium">Copy the link now: it is shown only once.</p>
            <code className="block break-all" data-testid="share-url">
              {create.data.url}
            </code>
            <CopyButton value={create.data.url} label="Copy share link" />
          </div>
        ) : (
          <form
            className="flex flex-wrap items-end gap-3"
            onSubmit={(e) => {
              e.preventDefault();
              create.mutate();
            }}
          >
            <SelectField label="Link expires after" value={days} onChange={(e) => setDays(Number(e.target.value))} className="w-48">
              {expiryChoices.map((d) => (
                <option key={d} value={d}>
                  {d} days
                </option>
              ))}
            </SelectField>
            <Button type="submit" busy={create.isPending}>
              Create share link
            </Button>
          </form>
        )}
        {create.error ? <ErrorNote error={create.error} /> : null}
        {live.length > 0 && (
          <ul aria-label="Active share links" className="divide-y divide-slate-100 dark:divide-slate-800">
            {live.map((l) => (
              <li key={l.id} className="flex items-center justify-between gap-2 py-2">
                <span>
                  Made {formatDate(l.createdAt)} · expires {formatDate(l.expiresAt)}
                </span>
                <Button
                  variant="secondary"
                  busy={revoke.isPending && revoke.variables === l.id}
                  onClick={() => revoke.mutate(l.id)}
                  aria-label={`Revoke share link ${l.id}`}
                >
                  Revoke
                </Button>
              </li>
            ))}
          </ul>
        )}
      </div>
    </Modal>
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
  const [sharing, setSharing] = useState(false);
  const canShare = partnership.status === 'active' && me?.status === 'active';
  return (
    <Card
      title={`With ${others.map((o) => o.name).join(', ')}`}
      actions={
        <span className="flex gap-2">
          <Badge tone={partnership.status === 'active' ? 'green' : 'amber'}>{partnership.status}</Badge>
          {partnership.agreement.reciprocityTargetPct !== undefined && <Badge>target ±{partnership.agreement.reciprocityTargetPct}%</Badge>}
          {canShare && (
            <Button variant="secondary" className="px-2.5 py-1 text-xs" onClick={() => setSharing(true)}>
              Share
            </Button>
          )}
        </span>
      }
    >
      {canShare && <ShareModal partnership={partnership} open={sharing} onClose={() => setSharing(false)} />}
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
      ) : partnership.status === 'active' && me?.status === 'active' ? (
        <>
          <BalanceView partnership={partnership} />
          <SettlementsView partnership={partnership} />
        </>
      ) : me?.status === 'declined' ? (
        <p className="text-sm text-slate-500">You declined this partnership.</p>
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
