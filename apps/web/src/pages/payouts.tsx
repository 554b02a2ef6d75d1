import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { endpoints, type Program } from '@tandem/contracts';
import type { z } from 'zod';
import type { payoutStatus as payoutStatusSchema } from '@tandem/contracts';
import { ApiFailure, call, urlOf, type ResponseOf } from '../api';
import { formatDate, formatMoney } from '../lib/format';
import { usePartnerNames } from '../lib/partners';
import {
  Badge,
  Button,
  Card,
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

type PayoutStatus = z.infer<typeof payoutStatusSchema>;
type Payout = ResponseOf<typeof endpoints.markPayoutPaid>;
const payoutTone: Record<PayoutStatus, 'amber' | 'indigo' | 'green' | 'rose'> = {
  pending: 'amber',
  processing: 'indigo',
  paid: 'green',
  failed: 'rose',
};

function RunBatch({ programs }: { programs: Program[] }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const [batch, setBatch] = useState<ResponseOf<typeof endpoints.createPayouts>>();
  const run = useMutation({
    mutationFn: (programId: string) => call(endpoints.createPayouts, { body: { programId } }),
    onSuccess: (b) => {
      setBatch(b);
      toast(
        b.payouts.length
          ? `Batch created with ${b.payouts.length} payout${b.payouts.length > 1 ? 's' : ''}`
          : 'No partner has reached the payout threshold yet',
      );
      void queryClient.invalidateQueries({ queryKey: ['payouts'] });
    },
  });
  return (
    <Card title="Run a payout batch">
      <form
        className="flex flex-wrap items-end gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          run.mutate(String(new FormData(e.currentTarget).get('programId')));
        }}
      >
        <SelectField label="Program" name="programId" className="min-w-56">
          {programs.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name} (threshold {formatMoney(p.payoutThreshold, p.currency)})
            </option>
          ))}
        </SelectField>
        <Button type="submit" busy={run.isPending}>
          Run payout batch
        </Button>
      </form>
      <p className="mt-2 text-xs text-slate-500">
        One payout per partner whose payable balance reaches the threshold. Negative balances after clawbacks carry over.
      </p>
      {run.error ? (
        <div className="mt-3">
          <ErrorNote error={run.error} />
        </div>
      ) : null}
      {batch && batch.payouts.length > 0 && (
        <div className="mt-4 flex flex-wrap items-center gap-3 rounded-lg bg-emerald-50 p-3 text-sm dark:bg-emerald-950">
          <span>
            Batch <code>{batch.batchId}</code> via {batch.provider}: pay it from your bank with the CSV, then mark each payout paid.
          </span>
          <a
            className="font-medium text-indigo-600 hover:underline"
            href={urlOf(endpoints.payoutBatchCsv, { params: { batchId: batch.batchId } })}
            download
          >
            Download CSV
          </a>
        </div>
      )}
    </Card>
  );
}

function MarkPaidModal({ payout, onClose }: { payout: Payout | undefined; onClose: () => void }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const markPaid = useMutation({
    mutationFn: ({ id, reference }: { id: string; reference: string }) =>
      call(endpoints.markPayoutPaid, { params: { id }, body: { reference } }),
    onSuccess: () => {
      toast('Payout marked paid');
      void queryClient.invalidateQueries({ queryKey: ['payouts'] });
      void queryClient.invalidateQueries({ queryKey: ['commissions'] });
      onClose();
    },
  });
  return (
    <Modal open={Boolean(payout)} title="Mark payout paid" onClose={onClose}>
      {payout && (
        <form
          className="space-y-4"
          onSubmit={(e) => {
            e.preventDefault();
            markPaid.mutate({ id: payout.id, reference: String(new FormData(e.currentTarget).get('reference')) });
          }}
        >
          <p className="text-sm">
            {formatMoney(payout.amount, payout.currency)} · batch <code>{payout.batchId}</code>
          </p>
          <Field
            label="Payment reference"
            name="reference"
            placeholder="Bank transfer id"
            required
            error={markPaid.error instanceof ApiFailure ? markPaid.error.fieldError('reference') : undefined}
          />
          {markPaid.error && !(markPaid.error instanceof ApiFailure && markPaid.error.fieldError('reference')) ? (
            <ErrorNote error={markPaid.error} />
          ) : null}
          <Button type="submit" busy={markPaid.isPending}>
            Mark paid
          </Button>
        </form>
      )}
    </Modal>
  );
}

/** Recomputes every hash chain of the ledger on the server and shows the head to compare with statements. */
function LedgerCheck() {
  const verify = useMutation({ mutationFn: () => call(endpoints.verifyLedger) });
  return (
    <Card
      title="Ledger integrity"
      actions={
        <Button variant="secondary" busy={verify.isPending} onClick={() => verify.mutate()}>
          Verify ledger
        </Button>
      }
    >
      {verify.error ? (
        <ErrorNote error={verify.error} />
      ) : verify.data ? (
        <div className="space-y-1 text-sm" role="status">
          <p>
            <Badge tone={verify.data.ok ? 'green' : 'rose'}>{verify.data.ok ? 'intact' : `${verify.data.problems.length} problems`}</Badge>{' '}
            {verify.data.entries} entries in {verify.data.chains} chains
          </p>
          {verify.data.head && (
            <p className="break-all text-xs text-slate-500">
              Chain head <code>{verify.data.head}</code>
            </p>
          )}
          {verify.data.problems.map((p) => (
            <p key={`${p.chain}-${p.seq}`} className="text-xs text-rose-600">
              {p.problem} in chain {p.chain} at entry {p.seq}
            </p>
          ))}
        </div>
      ) : (
        <p className="text-sm text-slate-500">
          Every commission and payout is an entry in a hash-chained ledger. Verify recomputes each chain; partner statements end with their
          chain head.
        </p>
      )}
    </Card>
  );
}

export function PayoutsPage() {
  const programs = usePrograms();
  const partnerName = usePartnerNames();
  const pager = usePager();
  const [paying, setPaying] = useState<Payout>();
  const payouts = useQuery({
    queryKey: ['payouts', pager.cursor],
    queryFn: () => call(endpoints.listPayouts, { query: { cursor: pager.cursor } }),
  });
  const list = programs.data?.data ?? [];
  return (
    <>
      <PageHeader title="Payouts" description="Pay partners what they have earned, in batches, with a CSV for your bank." />
      <div className="space-y-6">
        {programs.isPending ? (
          <Skeleton rows={2} />
        ) : list.length === 0 ? (
          <EmptyState title="No programs yet">Create a program and add partners before paying anyone.</EmptyState>
        ) : (
          <RunBatch programs={list} />
        )}
        <LedgerCheck />
        <Card title="Payouts">
          {payouts.isPending ? (
            <Skeleton rows={3} />
          ) : payouts.error ? (
            <ErrorNote error={payouts.error} />
          ) : payouts.data.data.length === 0 ? (
            <EmptyState title="No payouts yet">Run a batch once partners have payable commissions.</EmptyState>
          ) : (
            <>
              <Table
                label="Payouts"
                rows={payouts.data.data}
                rowKey={(p) => p.id}
                columns={[
                  {
                    header: 'Partner',
                    cell: (p) => <span className="font-medium text-slate-900 dark:text-white">{partnerName(p.partnerId)}</span>,
                  },
                  {
                    header: 'Amount',
                    cell: (p) => (
                      <span className="flex items-center gap-2">
                        <span className="tabular-nums">{formatMoney(p.amount, p.currency)}</span>
                        {/* What is left after a partnership settlement offset both brands' debts (Partnerships page). */}
                        {p.settlementId && (
                          <span title={`Net of partnership settlement ${p.settlementId}`}>
                            <Badge tone="slate">net of settlement</Badge>
                          </span>
                        )}
                      </span>
                    ),
                  },
                  { header: 'Status', cell: (p) => <Badge tone={payoutTone[p.status]}>{p.status}</Badge> },
                  { header: 'Reference', cell: (p) => p.reference ?? p.failureReason ?? '—' },
                  { header: 'Created', cell: (p) => formatDate(p.createdAt) },
                  {
                    header: '',
                    cell: (p) => (
                      <span className="flex items-center gap-2">
                        <a
                          className="text-xs text-indigo-600 hover:underline"
                          href={urlOf(endpoints.payoutBatchCsv, { params: { batchId: p.batchId } })}
                          download
                        >
                          CSV
                        </a>
                        {(p.status === 'pending' || p.status === 'processing') && (
                          <Button
                            variant="secondary"
                            className="px-2 py-1 text-xs"
                            onClick={() => setPaying(p)}
                            aria-label={`Mark paid ${partnerName(p.partnerId)}`}
                          >
                            Mark paid
                          </Button>
                        )}
                      </span>
                    ),
                  },
                ]}
              />
              <Pager pager={pager} nextCursor={payouts.data.nextCursor} />
            </>
          )}
        </Card>
      </div>
      <MarkPaidModal payout={paying} onClose={() => setPaying(undefined)} />
    </>
  );
}
