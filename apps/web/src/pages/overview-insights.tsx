import { useMemo } from 'react';
import { useQuery } from '@tanstack/react-query';
import { endpoints } from '@tandem/contracts';
import { call, type ResponseOf } from '../api';
import { formatNumber, formatPercent } from '../lib/format';
import { Card, ErrorNote, Skeleton, Table } from '../ui/kit';
import { moneyText, periodRange } from './overview';

type TopPartner = ResponseOf<typeof endpoints.analyticsTopPartners>['data'][number];
type Segment = ResponseOf<typeof endpoints.analyticsSegments>['data'][number];

const percentOrDash = (ratio: number | null) => (ratio === null ? '—' : formatPercent(ratio));

/** The partners that brought the most sales in the period, with what they cost and earn per click. */
export function TopPartnersCard({ range, programId }: { range: { from: string; to: string }; programId: string | undefined }) {
  const top = useQuery({
    queryKey: ['analytics', 'top-partners', range, programId],
    queryFn: () => call(endpoints.analyticsTopPartners, { query: { ...range, programId, limit: 10 } }),
  });
  return (
    <Card title="Top partners">
      {top.isPending ? (
        <Skeleton rows={4} />
      ) : top.error ? (
        <ErrorNote error={top.error} />
      ) : top.data.data.length === 0 ? (
        <p className="text-sm text-slate-500">No partner activity in this period yet.</p>
      ) : (
        <Table<TopPartner>
          label="Top partners"
          rows={top.data.data}
          rowKey={(p) => p.partnerId}
          columns={[
            { header: 'Partner', cell: (p) => <span className="font-medium">{p.name}</span> },
            { header: 'Clicks', className: 'text-right tabular-nums', cell: (p) => formatNumber(p.clicks) },
            { header: 'Leads', className: 'text-right tabular-nums', cell: (p) => formatNumber(p.leads) },
            { header: 'Sales', className: 'text-right tabular-nums', cell: (p) => formatNumber(p.sales) },
            { header: 'Revenue', className: 'text-right tabular-nums', cell: (p) => moneyText(p.revenue) },
            { header: 'Commissions', className: 'text-right tabular-nums', cell: (p) => moneyText(p.commissions) },
            { header: 'Conversion', className: 'text-right tabular-nums', cell: (p) => percentOrDash(p.conversionRate) },
            { header: 'EPC', className: 'text-right tabular-nums', cell: (p) => (p.epc.length ? moneyText(p.epc) : '—') },
          ]}
        />
      )}
    </Card>
  );
}

/** Segments are judged on a year of customers: 30/60/90-day shares need customers old enough. */
const COHORT_DAYS = 365;

function Share({ value }: { value: { eligible: number; share: number | null } }) {
  return (
    <span title={`${value.eligible} customers old enough to count`} className={value.share === null ? 'text-slate-400' : undefined}>
      {percentOrDash(value.share)}
    </span>
  );
}

/** Which partner tags bring customers who stay and do not refund. */
export function SegmentQualityCard({ programId }: { programId: string | undefined }) {
  const range = useMemo(() => periodRange(COHORT_DAYS, new Date()), []);
  const segments = useQuery({
    queryKey: ['analytics', 'segments', range, programId],
    queryFn: () => call(endpoints.analyticsSegments, { query: { ...range, programId } }),
  });
  return (
    <Card title="Segment quality · customers whose first sale was in the last 12 months">
      {segments.isPending ? (
        <Skeleton rows={4} />
      ) : segments.error ? (
        <ErrorNote error={segments.error} />
      ) : segments.data.data.length === 0 ? (
        <p className="text-sm text-slate-500">
          Tag your partners and, as their customers buy, each tag’s retention and refunds appear here.
        </p>
      ) : (
        <>
          <Table<Segment>
            label="Segment quality"
            rows={segments.data.data}
            rowKey={(s) => s.tag ?? '(untagged)'}
            columns={[
              {
                header: 'Tag',
                cell: (s) =>
                  s.tag === null ? <span className="text-slate-500">untagged</span> : <span className="font-medium">{s.tag}</span>,
              },
              { header: 'Customers', className: 'text-right tabular-nums', cell: (s) => formatNumber(s.customers) },
              { header: 'Active 30d', className: 'text-right tabular-nums', cell: (s) => <Share value={s.active.d30} /> },
              { header: 'Active 60d', className: 'text-right tabular-nums', cell: (s) => <Share value={s.active.d60} /> },
              { header: 'Active 90d', className: 'text-right tabular-nums', cell: (s) => <Share value={s.active.d90} /> },
              { header: 'Kept 90d', className: 'text-right tabular-nums', cell: (s) => <Share value={s.notRefunded.d90} /> },
              { header: 'Refund rate', className: 'text-right tabular-nums', cell: (s) => percentOrDash(s.refundRate) },
              { header: 'Revenue / customer', className: 'text-right tabular-nums', cell: (s) => moneyText(s.revenuePerCustomer) },
            ]}
          />
          <p className="mt-3 text-xs text-slate-500">
            Active N d: bought in the 30 days before day N after the first sale. Kept 90d: no refund within 90 days. Customers younger than
            N days are left out of that column.
          </p>
        </>
      )}
    </Card>
  );
}
