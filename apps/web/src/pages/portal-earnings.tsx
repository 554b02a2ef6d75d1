import { lazy, Suspense, useMemo, useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { endpoints, type PortalEnrollment } from '@tandem/contracts';
import { call, urlOf, type ResponseOf } from '../api';
import { formatDate, formatDateTime, formatMoney } from '../lib/format';
import { usePortalEnrollments } from '../lib/session';
import {
  Badge,
  Button,
  Card,
  EmptyState,
  ErrorNote,
  Field,
  PageHeader,
  Pager,
  SelectField,
  Skeleton,
  Stat,
  Table,
  usePager,
} from '../ui/kit';

const TimeSeriesChart = lazy(() => import('../ui/chart').then((m) => ({ default: m.TimeSeriesChart })));

type Interval = 'day' | 'week' | 'month';
type Commission = ResponseOf<typeof endpoints.listPortalCommissions>['data'][number];
type Verification = ResponseOf<typeof endpoints.verifyPortalStatement>;

/** Which of the partner's programs a page shows; the first one until the partner picks another. */
function useChosenEnrollment(): { chosen: PortalEnrollment | undefined; picker: React.ReactNode } {
  const enrollments = usePortalEnrollments();
  const list = enrollments.data?.data ?? [];
  const [id, setId] = useState<string>();
  const chosen = list.find((e) => e.id === id) ?? list[0];
  const picker =
    list.length > 1 ? (
      <SelectField label="Program" value={chosen?.id} onChange={(e) => setId(e.target.value)} className="w-64">
        {list.map((e) => (
          <option key={e.id} value={e.id}>
            {e.program.name} · {e.brand.name}
          </option>
        ))}
      </SelectField>
    ) : null;
  return { chosen, picker };
}

const statusTone = { pending: 'amber', held: 'amber', payable: 'indigo', paid: 'green', reversed: 'rose' } as const;

function EarningsOf({ enrollment }: { enrollment: PortalEnrollment }) {
  const id = enrollment.id;
  const [interval, setInterval] = useState<Interval>('day');
  const pager = usePager();
  const balance = useQuery({ queryKey: ['portal-balance', id], queryFn: () => call(endpoints.getPortalBalance, { params: { id } }) });
  const earnings = useQuery({
    queryKey: ['portal-earnings', id, interval],
    queryFn: () => call(endpoints.getPortalEarnings, { params: { id }, query: { interval } }),
  });
  const commissions = useQuery({
    queryKey: ['portal-commissions', id, pager.cursor],
    queryFn: () => call(endpoints.listPortalCommissions, { params: { id }, query: { cursor: pager.cursor } }),
  });
  const chart = useMemo(() => {
    if (!earnings.data) return undefined;
    const { points, currency } = earnings.data;
    const format = (n: number) => formatMoney(n, currency);
    return {
      days: points.map((p) => p.period),
      series: [
        { label: 'Pending', values: points.map((p) => p.pending), color: '#f59e0b', format },
        { label: 'Payable', values: points.map((p) => p.payable), color: '#6366f1', format },
        { label: 'Paid', values: points.map((p) => p.paid), color: '#10b981', format },
      ],
    };
  }, [earnings.data]);
  const money = (n: number) => (balance.data ? formatMoney(n, balance.data.currency) : '—');
  return (
    <div className="space-y-6">
      {balance.error ? <ErrorNote error={balance.error} /> : null}
      <section aria-label="Earnings totals" className="grid gap-4 sm:grid-cols-3">
        <Stat label="Pending" value={money(balance.data?.pending ?? 0)} hint="Earned, still in the brand’s hold period" />
        <Stat label="Payable" value={money(balance.data?.payable ?? 0)} hint="Cleared, waiting for the next payout" />
        <Stat label="Paid" value={money(balance.data?.paid ?? 0)} hint="Sent to you" />
      </section>
      <Card
        title="Balances over time"
        actions={
          <div role="radiogroup" aria-label="Interval" className="flex gap-1">
            {(['day', 'week', 'month'] as const).map((i) => (
              <button
                key={i}
                role="radio"
                aria-checked={interval === i}
                onClick={() => setInterval(i)}
                className={`rounded-md px-2.5 py-1 text-xs font-medium ${interval === i ? 'bg-indigo-600 text-white' : 'text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800'}`}
              >
                {i === 'day' ? 'Daily' : i === 'week' ? 'Weekly' : 'Monthly'}
              </button>
            ))}
          </div>
        }
      >
        {earnings.error ? (
          <ErrorNote error={earnings.error} />
        ) : !chart ? (
          <Skeleton rows={6} />
        ) : chart.days.length === 0 ? (
          <p className="text-sm text-slate-500">Your balances appear here after your first commission.</p>
        ) : (
          <Suspense fallback={<Skeleton rows={6} />}>
            <TimeSeriesChart label={`Pending, payable and paid balances per ${interval}`} days={chart.days} series={chart.series} />
          </Suspense>
        )}
      </Card>
      <Card title="Commissions">
        {commissions.error ? (
          <ErrorNote error={commissions.error} />
        ) : !commissions.data ? (
          <Skeleton rows={4} />
        ) : commissions.data.data.length === 0 ? (
          <p className="text-sm text-slate-500">No commissions yet. Share your link: every referred sale appears here.</p>
        ) : (
          <>
            <Table<Commission>
              label="My commissions"
              rows={commissions.data.data}
              rowKey={(c) => c.id}
              columns={[
                { header: 'Date', cell: (c) => formatDate(c.occurredAt) },
                { header: 'Kind', cell: (c) => c.kind },
                {
                  header: 'Amount',
                  className: 'text-right tabular-nums',
                  cell: (c) => formatMoney(c.amount - c.reversedAmount, c.currency),
                },
                { header: 'Status', cell: (c) => <Badge tone={statusTone[c.status]}>{c.status}</Badge> },
                { header: 'Payable from', cell: (c) => formatDate(c.payableAt) },
              ]}
            />
            <Pager pager={pager} nextCursor={commissions.data.nextCursor} />
          </>
        )}
      </Card>
    </div>
  );
}

export function PortalEarningsPage() {
  const { chosen, picker } = useChosenEnrollment();
  return (
    <>
      <PageHeader
        title="Earnings"
        description="What you have earned, what is cleared for payout and what has been paid."
        actions={picker}
      />
      {!chosen ? (
        <EmptyState title="No programs yet">Earnings appear once a brand enrolls you.</EmptyState>
      ) : (
        <EarningsOf key={chosen.id} enrollment={chosen} />
      )}
    </>
  );
}

function VerificationResult({ result }: { result: Verification }) {
  const intact = result.problems.length === 0;
  const tone = result.ok
    ? 'bg-emerald-50 text-emerald-900 ring-emerald-200 dark:bg-emerald-950 dark:text-emerald-100'
    : 'bg-rose-50 text-rose-900 ring-rose-200 dark:bg-rose-950 dark:text-rose-100';
  return (
    <div role="status" aria-label="Verification result" className={`rounded-lg p-4 text-sm ring-1 ${tone}`}>
      <p className="font-medium">
        {result.ok ? 'Verified' : 'Verification failed'}: {result.entries} entries recomputed,{' '}
        {intact ? 'every hash matches' : `${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} found`}.
      </p>
      {result.checkedHash && (
        <p className="mt-1">
          {result.checkedHash.foundAtSeq !== null
            ? `The hash you gave is entry ${result.checkedHash.foundAtSeq} of your chain.`
            : 'The hash you gave is not in your chain: an entry it covered was changed or removed, or the hash was mistyped.'}
        </p>
      )}
      {!intact && (
        <ul className="mt-2 list-disc pl-5">
          {result.problems.map((p) => (
            <li key={`${p.seq}-${p.problem}`}>
              Entry {p.seq}: {p.problem.replace(/_/g, ' ')}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function StatementOf({ enrollment }: { enrollment: PortalEnrollment }) {
  const id = enrollment.id;
  const statement = useQuery({ queryKey: ['portal-statement', id], queryFn: () => call(endpoints.getPortalStatement, { params: { id } }) });
  const [hash, setHash] = useState('');
  const verify = useMutation({
    mutationFn: () => call(endpoints.verifyPortalStatement, { params: { id }, body: hash.trim() ? { hash: hash.trim() } : {} }),
  });
  if (statement.error) return <ErrorNote error={statement.error} />;
  if (!statement.data) return <Skeleton rows={6} />;
  const s = statement.data;
  const money = (n: number) => formatMoney(n, s.program.currency);
  return (
    <div className="space-y-6">
      <Card
        title="Chain head"
        actions={
          <a
            href={urlOf(endpoints.getPortalStatementCsv, { params: { id } })}
            download
            className="text-sm font-medium text-indigo-600 hover:underline"
          >
            Download CSV
          </a>
        }
      >
        {s.head ? (
          <div className="space-y-2 text-sm">
            <p className="text-slate-600 dark:text-slate-400">
              Every entry’s hash covers the one before it. Keep this head hash: if any earlier entry is later edited or deleted, it no
              longer verifies.
            </p>
            <p>
              Entry {s.head.seq} ·{' '}
              <code className="break-all rounded bg-slate-100 px-1.5 py-0.5 dark:bg-slate-800" data-testid="chain-head">
                {s.head.hash}
              </code>
            </p>
          </div>
        ) : (
          <p className="text-sm text-slate-500">No ledger entries yet.</p>
        )}
        <form
          className="mt-4 flex flex-wrap items-end gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            verify.mutate();
          }}
        >
          <Field
            label="Hash from an earlier statement (optional)"
            name="hash"
            value={hash}
            onChange={(e) => setHash(e.target.value)}
            className="min-w-72 flex-1"
            error={verify.error instanceof Error && /hash/.test(verify.error.message) ? verify.error.message : undefined}
          />
          <Button type="submit" busy={verify.isPending}>
            Verify
          </Button>
        </form>
        <div className="mt-4">
          {verify.data ? <VerificationResult result={verify.data} /> : verify.error ? <ErrorNote error={verify.error} /> : null}
        </div>
      </Card>
      <Card title={`Statement · ${s.program.name}`}>
        {s.lines.length === 0 ? (
          <p className="text-sm text-slate-500">Nothing on the statement yet.</p>
        ) : (
          <Table
            label="Statement lines"
            rows={[...s.lines].reverse()}
            rowKey={(l) => String(l.seq)}
            columns={[
              { header: '#', cell: (l) => l.seq },
              { header: 'At', cell: (l) => formatDateTime(l.at) },
              { header: 'Entry', cell: (l) => l.kind },
              { header: 'Pending', className: 'text-right tabular-nums', cell: (l) => money(l.balance.pending) },
              { header: 'Payable', className: 'text-right tabular-nums', cell: (l) => money(l.balance.payable) },
              { header: 'Paid', className: 'text-right tabular-nums', cell: (l) => money(l.balance.paid) },
              {
                header: 'Hash',
                cell: (l) => (
                  <code className="text-xs text-slate-500" title={l.hash}>
                    {l.hash.slice(0, 12)}…
                  </code>
                ),
              },
            ]}
          />
        )}
      </Card>
    </div>
  );
}

export function PortalStatementsPage() {
  const { chosen, picker } = useChosenEnrollment();
  return (
    <>
      <PageHeader
        title="Statements"
        description="Your ledger with running balances, and a check that nobody rewrote it."
        actions={picker}
      />
      {!chosen ? (
        <EmptyState title="No programs yet">Statements appear once a brand enrolls you.</EmptyState>
      ) : (
        <StatementOf key={chosen.id} enrollment={chosen} />
      )}
    </>
  );
}
