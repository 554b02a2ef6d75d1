import { lazy, Suspense, useMemo } from 'react';
import { useParams } from '@tanstack/react-router';
import { useQuery } from '@tanstack/react-query';
import { endpoints } from '@tandem/contracts';
import { ApiFailure, call } from '../api';
import { formatDate } from '../lib/format';
import { Card, ErrorNote, Skeleton } from '../ui/kit';
import { DirectionsView } from './partnerships';

const TimeSeriesChart = lazy(() => import('../ui/chart').then((m) => ({ default: m.TimeSeriesChart })));

const palette = ['#6366f1', '#10b981', '#f59e0b', '#ec4899', '#0ea5e9', '#84cc16'];

/**
 * The public, read-only dashboard behind a partnership share link: no sign-in, and nothing but the
 * figures both brands see (balance both ways, net, daily clicks and sales).
 */
export function SharedDashboardPage() {
  const { token } = useParams({ from: '/share/$token' });
  const dashboard = useQuery({
    queryKey: ['shared-dashboard', token],
    queryFn: () => call(endpoints.getSharedPartnershipDashboard, { params: { token } }),
    retry: false,
  });
  const d = dashboard.data;
  const name = (id: string | null) => d?.members.find((m) => m.workspaceId === id)?.name ?? '—';
  const chart = useMemo(() => {
    if (!d || d.series.length === 0) return undefined;
    const label = (s: (typeof d.series)[number]) =>
      `${d.members.find((m) => m.workspaceId === s.fromWorkspaceId)?.name ?? '?'} → ${d.members.find((m) => m.workspaceId === s.toWorkspaceId)?.name ?? '?'}`;
    return {
      days: d.series[0]!.points.map((p) => p.date),
      series: d.series.flatMap((s, i) => [
        { label: `${label(s)} clicks`, values: s.points.map((p) => p.clicks), color: palette[(2 * i) % palette.length]! },
        { label: `${label(s)} sales`, values: s.points.map((p) => p.sales), color: palette[(2 * i + 1) % palette.length]! },
      ]),
    };
  }, [d]);
  const gone = dashboard.error instanceof ApiFailure && dashboard.error.status === 404;
  return (
    <div className="min-h-screen bg-slate-50 dark:bg-slate-950">
      <div className="mx-auto max-w-5xl space-y-6 p-6 md:p-10">
        <header>
          <p className="text-xs font-medium uppercase tracking-wide text-indigo-600">Tandem · shared partnership dashboard</p>
          <h1 className="mt-1 text-2xl font-semibold text-slate-900 dark:text-white">
            {d ? d.members.map((m) => m.name).join(' ⇆ ') : 'Partnership dashboard'}
          </h1>
          {d && <p className="mt-1 text-sm text-slate-500">Read-only. This link expires on {formatDate(d.expiresAt)}.</p>}
        </header>
        {dashboard.isPending ? (
          <Skeleton rows={6} />
        ) : gone ? (
          <Card>
            <p role="alert" className="text-sm">
              This share link does not exist, was revoked or has expired. Ask the brand that shared it for a new one.
            </p>
          </Card>
        ) : dashboard.error ? (
          <ErrorNote error={dashboard.error} />
        ) : d ? (
          <>
            <Card title="Balance both ways">
              <DirectionsView directions={d.directions} nets={d.nets} name={name} />
            </Card>
            <Card title="Last 30 days">
              {chart && (
                <Suspense fallback={<Skeleton rows={6} />}>
                  <TimeSeriesChart label="Clicks and sales per day in each direction" days={chart.days} series={chart.series} />
                </Suspense>
              )}
            </Card>
          </>
        ) : null}
      </div>
    </div>
  );
}
