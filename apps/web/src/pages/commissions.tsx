import { Fragment, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { endpoints } from '@tandem/contracts';
import type { z } from 'zod';
import type { commissionStatus as commissionStatusSchema } from '@tandem/contracts';
import { call } from '../api';
import { formatDate, formatMoney } from '../lib/format';
import { usePartnerNames } from '../lib/partners';
import { Badge, Button, Card, EmptyState, ErrorNote, Field, PageHeader, Pager, Skeleton, usePager, useToast } from '../ui/kit';
import { usePrograms } from './partners';

type CommissionStatus = z.infer<typeof commissionStatusSchema>;
export const commissionTone: Record<CommissionStatus, 'amber' | 'rose' | 'green' | 'indigo' | 'slate'> = {
  pending: 'amber',
  held: 'rose',
  payable: 'green',
  paid: 'indigo',
  reversed: 'slate',
};

function CommissionsTable() {
  const pager = usePager();
  const programs = usePrograms();
  const partnerName = usePartnerNames();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [filters, setFilters] = useState<{ programId?: string; status?: CommissionStatus }>({});
  const [expanded, setExpanded] = useState<string>();
  const commissions = useQuery({
    queryKey: ['commissions', filters, pager.cursor],
    queryFn: () => call(endpoints.listCommissions, { query: { ...filters, cursor: pager.cursor } }),
  });
  const mature = useMutation({
    mutationFn: () => call(endpoints.runMaturity, { body: {} }),
    onSuccess: (r) => {
      toast(`${r.payable} commission${r.payable === 1 ? '' : 's'} became payable${r.bonuses ? `, ${r.bonuses} bonuses awarded` : ''}`);
      void queryClient.invalidateQueries({ queryKey: ['commissions'] });
    },
    onError: (e) => toast(e.message, 'error'),
  });
  const select = 'rounded-lg border-0 bg-white py-1.5 text-sm ring-1 ring-slate-300 dark:bg-slate-900 dark:ring-slate-700';
  return (
    <Card
      title="Commissions"
      actions={
        <div className="flex flex-wrap gap-2">
          <select
            aria-label="Filter by program"
            className={select}
            value={filters.programId ?? ''}
            onChange={(e) => (pager.reset(), setFilters({ ...filters, programId: e.target.value || undefined }))}
          >
            <option value="">All programs</option>
            {programs.data?.data.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
          <select
            aria-label="Filter by status"
            className={select}
            value={filters.status ?? ''}
            onChange={(e) => (
              pager.reset(),
              setFilters({ ...filters, status: (e.target.value || undefined) as CommissionStatus | undefined })
            )}
          >
            <option value="">Any status</option>
            {Object.keys(commissionTone).map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
          <Button
            variant="secondary"
            busy={mature.isPending}
            onClick={() => mature.mutate()}
            title="Pending commissions past their hold become payable (this also runs every minute)"
          >
            Run maturity now
          </Button>
        </div>
      }
    >
      {commissions.isPending ? (
        <Skeleton rows={5} />
      ) : commissions.error ? (
        <ErrorNote error={commissions.error} />
      ) : commissions.data.data.length === 0 ? (
        <EmptyState title="No commissions yet">
          Commissions are created when a tracked lead or sale is attributed to a partner. Send sales to /api/v1/track/sale.
        </EmptyState>
      ) : (
        <>
          <div className="-mx-5 overflow-x-auto">
            <table className="min-w-full text-left text-sm" aria-label="Commissions">
              <thead>
                <tr className="border-b border-slate-100 text-xs uppercase tracking-wide text-slate-500 dark:border-slate-800">
                  {['Partner', 'Kind', 'Amount', 'Status', 'Payable from', 'Occurred', ''].map((h) => (
                    <th key={h} scope="col" className="px-5 py-2 font-medium">
                      {h}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
                {commissions.data.data.map((c) => (
                  <Fragment key={c.id}>
                    <tr className="hover:bg-slate-50 dark:hover:bg-slate-800/50">
                      <td className="px-5 py-2.5 font-medium text-slate-900 dark:text-white">{partnerName(c.partnerId)}</td>
                      <td className="px-5 py-2.5">{c.kind}</td>
                      <td className="px-5 py-2.5 tabular-nums">
                        {formatMoney(c.amount - c.reversedAmount, c.currency)}
                        {c.reversedAmount ? (
                          <span className="ml-1 text-xs text-slate-500 line-through">{formatMoney(c.amount, c.currency)}</span>
                        ) : null}
                      </td>
                      <td className="px-5 py-2.5">
                        <Badge tone={commissionTone[c.status]}>{c.status}</Badge>
                      </td>
                      <td className="px-5 py-2.5">{formatDate(c.payableAt)}</td>
                      <td className="px-5 py-2.5">{formatDate(c.occurredAt)}</td>
                      <td className="px-5 py-2.5">
                        <button
                          className="text-xs font-medium text-indigo-600 hover:underline"
                          aria-expanded={expanded === c.id}
                          onClick={() => setExpanded(expanded === c.id ? undefined : c.id)}
                        >
                          Why this amount?
                        </button>
                      </td>
                    </tr>
                    {expanded === c.id && (
                      <tr>
                        <td colSpan={7} className="bg-slate-50 px-5 py-3 dark:bg-slate-800/50">
                          <ol className="space-y-1 text-xs" aria-label="Explanation">
                            {c.explanation.map((s, i) => (
                              <li key={i} className="flex gap-2">
                                <Badge>{s.step}</Badge> <span>{s.text}</span>
                              </li>
                            ))}
                          </ol>
                          <p className="mt-2 text-xs text-slate-500">
                            Rules version {c.rulesVersion}
                            {c.termsVersion !== null ? ` · terms version ${c.termsVersion}` : ''} · {c.id}
                          </p>
                        </td>
                      </tr>
                    )}
                  </Fragment>
                ))}
              </tbody>
            </table>
          </div>
          <Pager pager={pager} nextCursor={commissions.data.nextCursor} />
        </>
      )}
    </Card>
  );
}

function ReviewQueue() {
  const pager = usePager();
  const partnerName = usePartnerNames();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [reason, setReason] = useState('');
  const reviews = useQuery({
    queryKey: ['reviews', pager.cursor],
    queryFn: () => call(endpoints.listReviews, { query: { status: 'held', cursor: pager.cursor } }),
  });
  const decide = useMutation({
    mutationFn: ({ id, action }: { id: string; action: 'release' | 'reject' }) =>
      call(action === 'release' ? endpoints.releaseReview : endpoints.rejectReview, {
        params: { commissionId: id },
        body: { reason: reason.trim() },
      }),
    onSuccess: (r) => {
      toast(`Commission ${r.review}`);
      void queryClient.invalidateQueries({ queryKey: ['reviews'] });
      void queryClient.invalidateQueries({ queryKey: ['commissions'] });
    },
    onError: (e) => toast(e.message, 'error'),
  });
  return (
    <Card title="Held for review">
      {reviews.isPending ? (
        <Skeleton rows={2} />
      ) : reviews.error ? (
        <ErrorNote error={reviews.error} />
      ) : reviews.data.data.length === 0 ? (
        <p className="text-sm text-slate-500">Nothing is held. Commissions with strong fraud signals wait here for a decision.</p>
      ) : (
        <div className="space-y-4">
          <Field
            label="Reason for your decision"
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            hint="Recorded in the audit log and shown to the partner."
          />
          <ul className="divide-y divide-slate-100 dark:divide-slate-800" aria-label="Held commissions">
            {reviews.data.data.map((r) => (
              <li key={r.commissionId} className="flex flex-wrap items-start justify-between gap-4 py-3">
                <div className="min-w-0">
                  <p className="font-medium">
                    {partnerName(r.partnerId)} · {formatMoney(r.amount, r.currency)} <Badge tone="rose">score {r.score}</Badge>
                  </p>
                  <ul className="mt-1 space-y-0.5 text-xs text-slate-600 dark:text-slate-400">
                    {r.signals.map((s) => (
                      <li key={s.type}>
                        <Badge tone={s.strong ? 'rose' : 'amber'}>{s.type}</Badge> {s.summary}
                      </li>
                    ))}
                  </ul>
                </div>
                <div className="flex gap-2">
                  <Button
                    variant="secondary"
                    disabled={!reason.trim()}
                    busy={decide.isPending && decide.variables?.id === r.commissionId && decide.variables.action === 'release'}
                    onClick={() => decide.mutate({ id: r.commissionId, action: 'release' })}
                    aria-label={`Release ${formatMoney(r.amount, r.currency)} of ${partnerName(r.partnerId)}`}
                  >
                    Release
                  </Button>
                  <Button
                    variant="danger"
                    disabled={!reason.trim()}
                    busy={decide.isPending && decide.variables?.id === r.commissionId && decide.variables.action === 'reject'}
                    onClick={() => decide.mutate({ id: r.commissionId, action: 'reject' })}
                    aria-label={`Reject ${formatMoney(r.amount, r.currency)} of ${partnerName(r.partnerId)}`}
                  >
                    Reject
                  </Button>
                </div>
              </li>
            ))}
          </ul>
          <Pager pager={pager} nextCursor={reviews.data.nextCursor} />
        </div>
      )}
    </Card>
  );
}

export function CommissionsPage() {
  return (
    <>
      <PageHeader
        title="Commissions"
        description="Every reward earned by your partners, why it is that amount, and what is held for review."
      />
      <div className="space-y-6">
        <ReviewQueue />
        <CommissionsTable />
      </div>
    </>
  );
}
