import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { endpoints } from '@tandem/contracts';
import { ApiFailure, call, type BodyOf } from '../api';
import { formatDate } from '../lib/format';
import { usePortalEnrollments } from '../lib/session';
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
} from '../ui/kit';
import { Conversation, disputeKindLabel, disputeSubject, disputeTone, subjectColumn } from './disputes';

type Kind = 'commission' | 'missing_credit' | 'payout';

function FileDisputeForm({ onFiled, commissionId }: { onFiled: (id: string) => void; commissionId?: string }) {
  const enrollments = usePortalEnrollments();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [kind, setKind] = useState<Kind>(commissionId ? 'commission' : 'missing_credit');
  const file = useMutation({
    mutationFn: (body: BodyOf<typeof endpoints.fileDispute>) => call(endpoints.fileDispute, { body }),
    onSuccess: (d) => {
      toast(`Dispute filed; ${d.status === 'open' ? `the brand answers by ${formatDate(d.dueAt)}` : d.status}`);
      void queryClient.invalidateQueries({ queryKey: ['portal-disputes'] });
      onFiled(d.id);
    },
  });
  const err = (f: string) => (file.error instanceof ApiFailure ? file.error.fieldError(f) : undefined);
  const fields = ['commissionId', 'payoutId', 'programId', 'orderId', 'customerEmail', 'saleDate', 'message'];
  return (
    <form
      className="space-y-4"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        const message = String(f.get('message'));
        const evidenceUrls = String(f.get('evidence') ?? '')
          .split(/\s+/)
          .filter(Boolean);
        if (kind === 'commission') file.mutate({ kind, commissionId: String(f.get('commissionId')), message, evidenceUrls });
        else if (kind === 'payout') file.mutate({ kind, payoutId: String(f.get('payoutId')), message, evidenceUrls });
        else
          file.mutate({
            kind,
            programId: String(f.get('programId')),
            orderId: String(f.get('orderId')),
            customerEmail: String(f.get('customerEmail')),
            saleDate: String(f.get('saleDate')),
            message,
            evidenceUrls,
          });
      }}
    >
      <SelectField label="What is wrong?" value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
        <option value="missing_credit">A sale I referred is missing</option>
        <option value="commission">A commission is wrong or held</option>
        <option value="payout">A payout is wrong</option>
      </SelectField>
      {kind === 'commission' && (
        <Field
          label="Commission id"
          name="commissionId"
          defaultValue={commissionId}
          placeholder="com_…"
          required
          error={err('commissionId')}
        />
      )}
      {kind === 'payout' && <Field label="Payout id" name="payoutId" placeholder="pay_…" required error={err('payoutId')} />}
      {kind === 'missing_credit' && (
        <>
          <SelectField label="Program" name="programId" error={err('programId')}>
            {enrollments.data?.data.map((e) => (
              <option key={e.program.id} value={e.program.id}>
                {e.program.name} · {e.brand.name}
              </option>
            ))}
          </SelectField>
          <div className="grid gap-3 sm:grid-cols-2">
            <Field label="Order or invoice id" name="orderId" required error={err('orderId')} />
            <Field label="Day of the sale" name="saleDate" type="date" required error={err('saleDate')} />
          </div>
          <Field label="Customer email" name="customerEmail" type="email" required error={err('customerEmail')} />
        </>
      )}
      <TextArea label="What happened" name="message" rows={3} required error={err('message')} />
      <TextArea
        label="Evidence links (one per line, optional)"
        name="evidence"
        rows={2}
        error={file.error instanceof ApiFailure ? file.error.details.find((d) => d.path.includes('evidenceUrls'))?.message : undefined}
      />
      {file.error && !fields.some(err) ? <ErrorNote error={file.error} /> : null}
      <Button type="submit" busy={file.isPending}>
        File dispute
      </Button>
    </form>
  );
}

function PortalDisputeDetail({ id }: { id: string }) {
  const queryClient = useQueryClient();
  const detail = useQuery({ queryKey: ['portal-dispute', id], queryFn: () => call(endpoints.getPortalDispute, { params: { id } }) });
  const [comment, setComment] = useState('');
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['portal-dispute', id] });
    void queryClient.invalidateQueries({ queryKey: ['portal-disputes'] });
  };
  const addComment = useMutation({
    mutationFn: () => call(endpoints.commentPortalDispute, { params: { id }, body: { body: comment } }),
    onSuccess: () => (setComment(''), refresh()),
  });
  const withdraw = useMutation({ mutationFn: () => call(endpoints.withdrawDispute, { params: { id } }), onSuccess: refresh });
  if (detail.isPending) return <Skeleton rows={3} />;
  if (detail.error) return <ErrorNote error={detail.error} />;
  const d = detail.data;
  const open = d.status === 'open' || d.status === 'under_review';
  return (
    <div className="space-y-4">
      <p className="flex flex-wrap items-center gap-2 text-sm">
        <Badge tone={disputeTone[d.status]}>{d.status.replace('_', ' ')}</Badge> {disputeKindLabel[d.kind]}: {disputeSubject(d)}
        {open && <span className="text-slate-500">· the brand answers by {formatDate(d.dueAt)}</span>}
      </p>
      <Conversation dispute={d} />
      {open && (
        <form
          className="space-y-2"
          onSubmit={(e) => {
            e.preventDefault();
            addComment.mutate();
          }}
        >
          <TextArea label="Add a comment" rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />
          <div className="flex gap-2">
            <Button type="submit" variant="secondary" disabled={!comment.trim()} busy={addComment.isPending}>
              Send
            </Button>
            <Button type="button" variant="ghost" busy={withdraw.isPending} onClick={() => withdraw.mutate()}>
              Withdraw dispute
            </Button>
          </div>
        </form>
      )}
    </div>
  );
}

export function PortalDisputesPage() {
  const pager = usePager();
  const [filing, setFiling] = useState(false);
  const [openId, setOpenId] = useState<string>();
  const disputes = useQuery({
    queryKey: ['portal-disputes', pager.cursor],
    queryFn: () => call(endpoints.listPortalDisputes, { query: { cursor: pager.cursor } }),
  });
  return (
    <>
      <PageHeader
        title="Disputes"
        description="Tell a brand when a sale is missing or a commission looks wrong, and follow the answer."
        actions={<Button onClick={() => setFiling(true)}>File a dispute</Button>}
      />
      <Card>
        {disputes.isPending ? (
          <Skeleton rows={3} />
        ) : disputes.error ? (
          <ErrorNote error={disputes.error} />
        ) : disputes.data.data.length === 0 ? (
          <EmptyState
            title="No disputes"
            action={
              <Button variant="secondary" onClick={() => setFiling(true)}>
                File a dispute
              </Button>
            }
          >
            If a sale you referred is missing or a commission is held, file a dispute. The brand must answer by a deadline.
          </EmptyState>
        ) : (
          <>
            <Table
              label="My disputes"
              rows={disputes.data.data}
              rowKey={(d) => d.id}
              columns={[
                subjectColumn(setOpenId),
                { header: 'Status', cell: (d) => <Badge tone={disputeTone[d.status]}>{d.status.replace('_', ' ')}</Badge> },
                { header: 'Answer due', cell: (d) => formatDate(d.dueAt) },
                { header: 'Filed', cell: (d) => formatDate(d.createdAt) },
              ]}
            />
            <Pager pager={pager} nextCursor={disputes.data.nextCursor} />
          </>
        )}
      </Card>
      <Modal open={filing} title="File a dispute" onClose={() => setFiling(false)}>
        {filing && <FileDisputeForm onFiled={(id) => (setFiling(false), setOpenId(id))} />}
      </Modal>
      <Modal open={Boolean(openId)} title="Dispute" onClose={() => setOpenId(undefined)}>
        {openId && <PortalDisputeDetail id={openId} />}
      </Modal>
    </>
  );
}
