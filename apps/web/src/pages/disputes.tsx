import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { endpoints } from '@tandem/contracts';
import type { z } from 'zod';
import type { dispute as disputeSchema, disputeStatus } from '@tandem/contracts';
import { ApiFailure, call, type BodyOf, type ResponseOf } from '../api';
import { formatDate, formatDateTime } from '../lib/format';
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
  TextArea,
  usePager,
  useToast,
  type Column,
} from '../ui/kit';

export type Dispute = z.infer<typeof disputeSchema>;
export type DisputeStatus = z.infer<typeof disputeStatus>;
type DisputeWithComments = ResponseOf<typeof endpoints.getDispute>;

export const disputeTone: Record<DisputeStatus, 'amber' | 'indigo' | 'green' | 'rose' | 'slate'> = {
  open: 'amber',
  under_review: 'indigo',
  accepted: 'green',
  rejected: 'rose',
  withdrawn: 'slate',
};
export const disputeKindLabel: Record<Dispute['kind'], string> = {
  commission: 'Commission',
  missing_credit: 'Missing credit',
  payout: 'Payout',
};

export function disputeSubject(d: Dispute): string {
  if (d.kind === 'missing_credit' && d.missingCredit) return `Order ${d.missingCredit.orderId} on ${d.missingCredit.saleDate}`;
  if (d.kind === 'payout') return `Payout ${d.payoutId ?? ''}`;
  return `Commission ${d.commissionId ?? ''}`;
}

/** The table column naming a dispute's subject; clicking it opens the dispute (brand and portal lists). */
export function subjectColumn(open: (id: string) => void): Column<Dispute> {
  return {
    header: 'Subject',
    cell: (d) => (
      <button className="text-left font-medium text-indigo-700 hover:underline dark:text-indigo-300" onClick={() => open(d.id)}>
        {disputeKindLabel[d.kind]}: {disputeSubject(d)}
      </button>
    ),
  };
}

/** The conversation of a dispute: partner and brand comments in order. */
export function Conversation({ dispute }: { dispute: DisputeWithComments }) {
  return (
    <ol className="space-y-3" aria-label="Conversation">
      <li className="rounded-lg bg-slate-50 p-3 text-sm dark:bg-slate-800">
        <p className="mb-1 text-xs font-medium text-slate-500">Partner · {formatDateTime(dispute.createdAt)}</p>
        {dispute.message}
        {dispute.evidenceUrls.length > 0 && (
          <ul className="mt-2 text-xs">
            {dispute.evidenceUrls.map((u) => (
              <li key={u}>
                <a href={u} target="_blank" rel="noreferrer noopener" className="text-indigo-600 hover:underline">
                  {u}
                </a>
              </li>
            ))}
          </ul>
        )}
      </li>
      {dispute.comments.map((c) => (
        <li
          key={c.id}
          className={`rounded-lg p-3 text-sm ${c.author === 'brand' ? 'ml-6 bg-indigo-50 dark:bg-indigo-950' : 'mr-6 bg-slate-50 dark:bg-slate-800'}`}
        >
          <p className="mb-1 text-xs font-medium text-slate-500">
            {c.author === 'brand' ? 'Brand' : 'Partner'} · {formatDateTime(c.createdAt)}
          </p>
          {c.body}
        </li>
      ))}
      {dispute.decision && (
        <li className="rounded-lg border border-slate-200 p-3 text-sm dark:border-slate-700">
          <p className="mb-1 text-xs font-medium text-slate-500">Decision · {formatDateTime(dispute.decision.decidedAt)}</p>
          <Badge tone={disputeTone[dispute.status]}>{dispute.status}</Badge> {dispute.decision.reason}
        </li>
      )}
    </ol>
  );
}

function DisputeDetail({ id, onClose }: { id: string; onClose: () => void }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const detail = useQuery({ queryKey: ['dispute', id], queryFn: () => call(endpoints.getDispute, { params: { id } }) });
  const [comment, setComment] = useState('');
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['dispute', id] });
    void queryClient.invalidateQueries({ queryKey: ['disputes'] });
  };
  const addComment = useMutation({
    mutationFn: () => call(endpoints.commentDispute, { params: { id }, body: { body: comment } }),
    onSuccess: () => (setComment(''), refresh()),
  });
  const review = useMutation({ mutationFn: () => call(endpoints.reviewDispute, { params: { id } }), onSuccess: refresh });
  const decide = useMutation({
    mutationFn: (body: BodyOf<typeof endpoints.decideDispute>) => call(endpoints.decideDispute, { params: { id }, body }),
    onSuccess: (d) => {
      toast(`Dispute ${d.status}`);
      refresh();
      void queryClient.invalidateQueries({ queryKey: ['commissions'] });
    },
  });
  if (detail.isPending) return <Skeleton rows={4} />;
  if (detail.error) return <ErrorNote error={detail.error} />;
  const d = detail.data;
  const open = d.status === 'open' || d.status === 'under_review';
  const reasonError = decide.error instanceof ApiFailure ? decide.error.fieldError('reason') : undefined;
  return (
    <div className="space-y-5">
      <div className="flex flex-wrap items-center gap-2 text-sm">
        <Badge tone={disputeTone[d.status]}>{d.status.replace('_', ' ')}</Badge>
        <span>{disputeKindLabel[d.kind]}</span>·<span>{disputeSubject(d)}</span>
        {open && (
          <span className={d.escalated ? 'text-rose-600' : 'text-slate-500'}>
            · answer by {formatDate(d.dueAt)}
            {d.escalated ? ' (escalated)' : ''}
          </span>
        )}
      </div>
      <Conversation dispute={d} />
      {open && (
        <>
          <form
            className="space-y-2"
            onSubmit={(e) => {
              e.preventDefault();
              addComment.mutate();
            }}
          >
            <TextArea label="Reply to the partner" rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />
            <Button type="submit" variant="secondary" disabled={!comment.trim()} busy={addComment.isPending}>
              Send reply
            </Button>
          </form>
          <form
            className="space-y-3 border-t border-slate-200 pt-4 dark:border-slate-700"
            onSubmit={(e) => {
              e.preventDefault();
              const f = new FormData(e.currentTarget);
              const decision = (e.nativeEvent as SubmitEvent).submitter?.getAttribute('value') as 'accepted' | 'rejected';
              const effect = String(f.get('effect'));
              const amount = Number(f.get('amount'));
              const resolution =
                decision !== 'accepted'
                  ? undefined
                  : effect === 'adjustment'
                    ? { kind: 'adjustment' as const, amount }
                    : effect === 'release_hold'
                      ? { kind: 'release_hold' as const }
                      : undefined;
              decide.mutate({ decision, reason: String(f.get('reason')), ...(resolution ? { resolution } : {}) });
            }}
          >
            <h3 className="text-sm font-semibold">Decide</h3>
            <Field label="Reason (the partner sees it)" name="reason" required error={reasonError} />
            <div className="grid grid-cols-2 gap-3">
              <SelectField label="If accepted" name="effect" defaultValue={d.kind === 'commission' ? 'release_hold' : 'adjustment'}>
                <option value="adjustment">Pay an adjustment</option>
                <option value="release_hold">Release the held commission</option>
                <option value="none">No ledger change</option>
              </SelectField>
              <Field label="Adjustment (minor units)" name="amount" type="number" min={1} defaultValue={1000} />
            </div>
            {decide.error && !reasonError ? <ErrorNote error={decide.error} /> : null}
            <div className="flex flex-wrap gap-2">
              <Button type="submit" value="accepted" busy={decide.isPending && decide.variables?.decision === 'accepted'}>
                Accept dispute
              </Button>
              <Button
                type="submit"
                value="rejected"
                variant="secondary"
                busy={decide.isPending && decide.variables?.decision === 'rejected'}
              >
                Reject dispute
              </Button>
              {d.status === 'open' && (
                <Button type="button" variant="ghost" busy={review.isPending} onClick={() => review.mutate()}>
                  Mark under review
                </Button>
              )}
            </div>
          </form>
        </>
      )}
      <Button variant="ghost" onClick={onClose}>
        Close
      </Button>
    </div>
  );
}

export function DisputesPage() {
  const pager = usePager();
  const [status, setStatus] = useState<DisputeStatus | ''>('');
  const [openId, setOpenId] = useState<string>();
  const disputes = useQuery({
    queryKey: ['disputes', status, pager.cursor],
    queryFn: () => call(endpoints.listDisputes, { query: { status: status || undefined, cursor: pager.cursor } }),
  });
  return (
    <>
      <PageHeader
        title="Disputes"
        description="Partners contest a commission, a missing sale or a payout here. Answer before the deadline."
      />
      <Card
        actions={
          <select
            aria-label="Filter by status"
            className="rounded-lg border-0 bg-white py-1.5 text-sm ring-1 ring-slate-300 dark:bg-slate-900 dark:ring-slate-700"
            value={status}
            onChange={(e) => (pager.reset(), setStatus(e.target.value as DisputeStatus | ''))}
          >
            <option value="">All</option>
            {Object.keys(disputeTone).map((s) => (
              <option key={s} value={s}>
                {s.replace('_', ' ')}
              </option>
            ))}
          </select>
        }
        title="Inbox"
      >
        {disputes.isPending ? (
          <Skeleton rows={4} />
        ) : disputes.error ? (
          <ErrorNote error={disputes.error} />
        ) : disputes.data.data.length === 0 ? (
          <EmptyState title="No disputes">
            When a partner disputes a commission or reports a missing sale, it lands here with a response deadline.
          </EmptyState>
        ) : (
          <>
            <Table
              label="Disputes"
              rows={disputes.data.data}
              rowKey={(d) => d.id}
              columns={[
                subjectColumn(setOpenId),
                { header: 'Partner', cell: (d) => <code className="text-xs">{d.partnerId}</code> },
                { header: 'Status', cell: (d) => <Badge tone={disputeTone[d.status]}>{d.status.replace('_', ' ')}</Badge> },
                { header: 'Due', cell: (d) => <span className={d.escalated ? 'text-rose-600' : undefined}>{formatDate(d.dueAt)}</span> },
                { header: 'Filed', cell: (d) => formatDate(d.createdAt) },
              ]}
            />
            <Pager pager={pager} nextCursor={disputes.data.nextCursor} />
          </>
        )}
      </Card>
      <Modal open={Boolean(openId)} title="Dispute" onClose={() => setOpenId(undefined)}>
        {openId && <DisputeDetail id={openId} onClose={() => setOpenId(undefined)} />}
      </Modal>
    </>
  );
}
