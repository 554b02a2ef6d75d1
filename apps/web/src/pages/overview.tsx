import { lazy, Suspense, useMemo, useState } from 'react';
import { Link } from '@tanstack/react-router';
import { useQuery } from '@tanstack/react-query';
import { endpoints } from '@tandem/contracts';
import { call, type ResponseOf } from '../api';
import { formatMoney, formatMoneyCompact, formatNumber, formatPercent } from '../lib/format';
import { useLiveEvents } from '../lib/live';
import { useMe } from '../lib/session';
import { Card, ErrorNote, PageHeader, Skeleton, Stat } from '../ui/kit';

import { SegmentQualityCard, TopPartnersCard } from './overview-insights';

// uPlot loads with the first chart, not with the app.
const TimeSeriesChart = lazy(() => import('../ui/chart').then((m) => ({ default: m.TimeSeriesChart })));

type Summary = ResponseOf<typeof endpoints.analyticsSummary>;
type Money = Summary['totals']['revenue'];

const periods = [
  { days: 7, label: '7 days' },
  { days: 30, label: '30 days' },
  { days: 90, label: '90 days' },
] as const;

/** [from, to] as inclusive UTC dates ending today. */
export function periodRange(days: number, now: Date): { from: string; to: string } {
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const from = new Date(to.getTime() - (days - 1) * 86_400_000);
  return { from: from.toISOString().slice(0, 10), to: to.toISOString().slice(0, 10) };
}

/** Like `moneyText`, with large amounts shortened (`$17.8K`) for stat cards. */
export function moneyCompactText(amounts: Money): string {
  if (amounts.length === 0) return formatMoneyCompact(0, 'USD');
  return amounts.map((m) => formatMoneyCompact(m.amount, m.currency)).join(' + ');
}

export function moneyText(amounts: Money): string {
  if (amounts.length === 0) return formatMoney(0, 'USD');
  return amounts.map((m) => formatMoney(m.amount, m.currency)).join(' + ');
}

/** The getting-started checklist: each step is done when the workspace really has it. */
function GettingStarted() {
  const programs = useQuery({ queryKey: ['programs', 'first'], queryFn: () => call(endpoints.listPrograms, { query: { limit: 1 } }) });
  const partners = useQuery({
    queryKey: ['enrollments', 'first'],
    queryFn: () => call(endpoints.listEnrollments, { query: { limit: 1 } }),
  });
  const commissions = useQuery({
    queryKey: ['commissions', 'first'],
    queryFn: () => call(endpoints.listCommissions, { query: { limit: 1 } }),
  });
  if (programs.isPending || commissions.isPending || partners.isPending) return <Skeleton rows={3} />;
  const steps = [
    {
      done: Boolean(programs.data?.data.length),
      label: 'Create a program',
      detail: 'Set what partners earn and where their links go.',
      to: '/programs',
    },
    {
      done: Boolean(partners.data?.data.length),
      label: 'Add partners',
      detail: 'Each partner gets a tracked link, a QR code and a coupon code.',
      to: '/partners',
    },
    {
      done: Boolean(commissions.data?.data.length),
      label: 'Record a first sale',
      detail: 'Send sales from your backend to /api/v1/track/sale with an API key from Settings.',
      to: '/settings',
    },
  ];
  if (steps.every((s) => s.done)) return null;
  return (
    <Card title="Get started" className="mb-6">
      <ol className="grid gap-4 md:grid-cols-3">
        {steps.map((s, i) => (
          <li key={s.label} className="flex items-start gap-3">
            <span
              aria-hidden
              className={`grid size-6 shrink-0 place-items-center rounded-full text-xs font-semibold ${s.done ? 'bg-emerald-500 text-white' : 'bg-slate-200 text-slate-600 dark:bg-slate-700 dark:text-slate-200'}`}
            >
              {s.done ? '✓' : i + 1}
            </span>
            <div>
              <Link to={s.to} className="font-medium text-slate-900 hover:text-indigo-600 dark:text-white">
                {s.label}
              </Link>
              <span className="sr-only">{s.done ? ' (done)' : ' (to do)'}</span>
              <p className="text-sm text-slate-500">{s.detail}</p>
            </div>
          </li>
        ))}
      </ol>
    </Card>
  );
}

function ActivityFeed() {
  const [events, setEvents] = useState<{ id: string; text: string; at: Date }[]>([]);
  useLiveEvents((e) => {
    const text =
      e.type === 'clicks.recorded'
        ? `${String(e.data.count)} new click${e.data.count === 1 ? '' : 's'}`
        : e.type.replace('.', ' ').replace(/^\w/, (c) => c.toUpperCase());
    setEvents((list) => [{ id: e.id || `${e.type}-${Date.now()}`, text, at: new Date() }, ...list].slice(0, 8));
  });
  return (
    <Card
      title="Live activity"
      actions={
        <span className="flex items-center gap-1.5 text-xs text-emerald-600">
          <span className="size-2 animate-pulse rounded-full bg-emerald-500" aria-hidden /> live
        </span>
      }
    >
      {events.length === 0 ? (
        <p className="text-sm text-slate-500">Clicks, sales and commissions appear here the moment they happen.</p>
      ) : (
        <ul className="space-y-2 text-sm" aria-label="Live activity">
          {events.map((e) => (
            <li key={e.id} className="flex justify-between gap-2">
              <span>{e.text}</span>
              <time className="text-slate-500">{e.at.toLocaleTimeString()}</time>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

export function Dashboard({ partnerId }: { partnerId?: string }) {
  const [days, setDays] = useState<number>(30);
  const [programId, setProgramId] = useState<string>();
  const programs = useQuery({ queryKey: ['programs', 'all'], queryFn: () => call(endpoints.listPrograms, { query: { limit: 100 } }) });
  const range = useMemo(() => periodRange(days, new Date()), [days]);
  const summary = useQuery({
    queryKey: ['analytics', range, programId, partnerId],
    queryFn: () => call(endpoints.analyticsSummary, { query: { ...range, programId, partnerId } }),
  });
  const chart = useMemo(() => {
    if (!summary.data) return undefined;
    const s = summary.data.series;
    const currency = summary.data.totals.revenue[0]?.currency ?? 'USD';
    const revenueOf = (m: Money) => m.find((x) => x.currency === currency)?.amount ?? 0;
    return {
      days: s.map((b) => b.date),
      series: [
        { label: 'Clicks', values: s.map((b) => b.clicks), color: '#6366f1' },
        { label: 'Sales', values: s.map((b) => b.sales), color: '#10b981' },
        {
          label: `Revenue (${currency})`,
          values: s.map((b) => revenueOf(b.revenue)),
          color: '#f59e0b',
          rightAxis: true,
          format: (n: number) => formatMoney(n, currency),
        },
      ],
    };
  }, [summary.data]);
  return (
    <>
      <div className="mb-4 flex flex-wrap items-center gap-3">
        {(programs.data?.data.length ?? 0) > 1 && (
          <select
            aria-label="Program"
            className="rounded-lg border-0 bg-white py-1.5 text-sm shadow-sm ring-1 ring-slate-200 dark:bg-slate-900 dark:ring-slate-800"
            value={programId ?? ''}
            onChange={(e) => setProgramId(e.target.value || undefined)}
          >
            <option value="">All programs</option>
            {programs.data?.data.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        )}
        <div
          role="radiogroup"
          aria-label="Period"
          className="inline-flex rounded-lg bg-white p-1 shadow-sm ring-1 ring-slate-200 dark:bg-slate-900 dark:ring-slate-800"
        >
          {periods.map((p) => (
            <button
              key={p.days}
              role="radio"
              aria-checked={days === p.days}
              onClick={() => setDays(p.days)}
              className={`rounded-md px-3 py-1 text-sm font-medium ${days === p.days ? 'bg-indigo-600 text-white' : 'text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800'}`}
            >
              {p.label}
            </button>
          ))}
        </div>
      </div>
      {summary.isPending ? (
        <Skeleton rows={6} />
      ) : summary.error ? (
        <ErrorNote error={summary.error} />
      ) : (
        <>
          <div className="grid grid-cols-2 gap-4 md:grid-cols-3 xl:grid-cols-6" aria-label="Totals">
            <Stat label="Clicks" value={formatNumber(summary.data.totals.clicks)} />
            <Stat
              label="Leads"
              value={formatNumber(summary.data.totals.leads)}
              hint={summary.data.totals.leadRate === null ? undefined : `${formatPercent(summary.data.totals.leadRate)} of clicks`}
            />
            <Stat label="Sales" value={formatNumber(summary.data.totals.sales)} />
            <Stat
              label="Revenue"
              value={moneyCompactText(summary.data.totals.revenue)}
              title={moneyText(summary.data.totals.revenue)}
              hint={summary.data.totals.refunds ? `${summary.data.totals.refunds} refunds` : undefined}
            />
            <Stat
              label="Conversion"
              value={summary.data.totals.conversionRate === null ? '—' : formatPercent(summary.data.totals.conversionRate)}
              hint="sales per click"
            />
            <Stat label="EPC" value={moneyCompactText(summary.data.totals.epc)} title={moneyText(summary.data.totals.epc)} hint="net revenue per click" />
          </div>
          <Card title="Performance" className="mt-6">
            <Suspense fallback={<Skeleton rows={5} />}>
              {chart && (
                <TimeSeriesChart label={`Clicks, sales and revenue per day over ${days} days`} days={chart.days} series={chart.series} />
              )}
            </Suspense>
          </Card>
          <div className="mt-6 space-y-6">
            <TopPartnersCard range={range} programId={programId} />
            <SegmentQualityCard programId={programId} />
          </div>
        </>
      )}
    </>
  );
}

export function OverviewPage() {
  const me = useMe();
  return (
    <>
      <PageHeader title="Overview" description={`How ${me.data?.workspace?.name ?? 'your brand'}'s partners are doing.`} />
      <GettingStarted />
      <div className="grid gap-6 xl:grid-cols-4">
        <div className="xl:col-span-3">
          <Dashboard />
        </div>
        <ActivityFeed />
      </div>
    </>
  );
}
