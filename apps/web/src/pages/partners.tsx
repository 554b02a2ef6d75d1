import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { endpoints, type Application, type Enrollment, type EnrollmentStatus } from '@tandem/contracts';
import { ApiFailure, call, urlOf, type BodyOf } from '../api';
import { formatDate } from '../lib/format';
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
  TextArea,
  usePager,
  useToast,
} from '../ui/kit';

const enrollmentTone: Record<EnrollmentStatus, 'green' | 'amber' | 'slate' | 'rose' | 'indigo'> = {
  approved: 'green',
  applied: 'amber',
  invited: 'indigo',
  rejected: 'slate',
  suspended: 'amber',
  banned: 'rose',
};

/** The workspace's programs, for pickers. */
export function usePrograms() {
  return useQuery({ queryKey: ['programs', 'all'], queryFn: () => call(endpoints.listPrograms, { query: { limit: 100 } }) });
}

function AddPartnerModal({ open, onClose }: { open: boolean; onClose: () => void }) {
  const programs = usePrograms();
  const queryClient = useQueryClient();
  const toast = useToast();
  const add = useMutation({
    mutationFn: ({ programId, body }: { programId: string; body: BodyOf<typeof endpoints.addPartner> }) =>
      call(endpoints.addPartner, { params: { id: programId }, body }),
    onSuccess: (added) => {
      toast(`${added.partner.name} added${added.link ? ` with the link ${added.link.shortUrl}` : ''}`);
      void queryClient.invalidateQueries({ queryKey: ['enrollments'] });
      onClose();
    },
  });
  const err = (f: string) => (add.error instanceof ApiFailure ? add.error.fieldError(f) : undefined);
  const list = programs.data?.data ?? [];
  return (
    <Modal open={open} title="Add a partner" onClose={onClose}>
      {programs.isPending ? (
        <Skeleton rows={3} />
      ) : list.length === 0 ? (
        <EmptyState title="Create a program first">Partners join a program; it sets what they earn.</EmptyState>
      ) : (
        <form
          className="space-y-4"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            const form = new FormData(e.currentTarget);
            const tags = String(form.get('tags') ?? '')
              .split(',')
              .map((t) => t.trim())
              .filter(Boolean);
            add.mutate({
              programId: String(form.get('programId')),
              body: { name: String(form.get('name')), email: String(form.get('email')), tags, status: 'approved' },
            });
          }}
        >
          <SelectField label="Program" name="programId" defaultValue={list[0]?.id}>
            {list.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </SelectField>
          <Field label="Partner name" name="name" required error={err('name')} />
          <Field
            label="Partner email"
            name="email"
            type="email"
            required
            error={err('email')}
            hint="They sign in to the partner portal with this address."
          />
          <Field
            label="Tags"
            name="tags"
            placeholder="creator, newsletter"
            hint="Comma separated; used for segments and tiered rules."
            error={err('tags')}
          />
          {add.error && !err('name') && !err('email') && !err('tags') ? <ErrorNote error={add.error} /> : null}
          <Button type="submit" busy={add.isPending}>
            Add partner
          </Button>
        </form>
      )}
    </Modal>
  );
}

/** Tags are the segments of an enrollment: tiered rules, boosts and reports read them. */
function TagsModal({ enrollment, onClose }: { enrollment: Enrollment | undefined; onClose: () => void }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const save = useMutation({
    mutationFn: ({ id, tags }: { id: string; tags: string[] }) => call(endpoints.updateEnrollment, { params: { id }, body: { tags } }),
    onSuccess: (e) => {
      toast(`Tags of ${e.partner.name} saved`);
      void queryClient.invalidateQueries({ queryKey: ['enrollments'] });
      onClose();
    },
  });
  return (
    <Modal open={Boolean(enrollment)} title={`Tags of ${enrollment?.partner.name ?? ''}`} onClose={onClose}>
      {enrollment && (
        <form
          className="space-y-4"
          onSubmit={(e) => {
            e.preventDefault();
            const tags = String(new FormData(e.currentTarget).get('tags'))
              .split(',')
              .map((t) => t.trim())
              .filter(Boolean);
            save.mutate({ id: enrollment.id, tags });
          }}
        >
          <Field
            label="Tags"
            name="tags"
            defaultValue={enrollment.tags.join(', ')}
            hint="Comma separated, such as creator, newsletter, vip."
            error={save.error instanceof ApiFailure ? save.error.details[0]?.message : undefined}
          />
          {save.error && !(save.error instanceof ApiFailure && save.error.details.length) ? <ErrorNote error={save.error} /> : null}
          <Button type="submit" busy={save.isPending}>
            Save tags
          </Button>
        </form>
      )}
    </Modal>
  );
}

function StatusActions({ enrollment }: { enrollment: Enrollment }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const change = useMutation({
    mutationFn: (status: BodyOf<typeof endpoints.changeEnrollmentStatus>['status']) =>
      call(endpoints.changeEnrollmentStatus, { params: { id: enrollment.id }, body: { status } }),
    onSuccess: (e) => {
      toast(`${e.partner.name} is now ${e.status}`);
      void queryClient.invalidateQueries({ queryKey: ['enrollments'] });
    },
    onError: (e) => toast(e.message, 'error'),
  });
  const actions: { label: string; status: 'approved' | 'rejected' | 'suspended' | 'banned' }[] =
    enrollment.status === 'approved'
      ? [
          { label: 'Suspend', status: 'suspended' },
          { label: 'Ban', status: 'banned' },
        ]
      : enrollment.status === 'invited'
        ? [
            { label: 'Approve', status: 'approved' },
            { label: 'Reject', status: 'rejected' },
          ]
        : enrollment.status === 'suspended'
          ? [
              { label: 'Reinstate', status: 'approved' },
              { label: 'Ban', status: 'banned' },
            ]
          : [];
  // Applications are decided in the Applications card, where a council votes.
  if (enrollment.status === 'applied') return <span className="text-xs text-slate-500">See applications</span>;
  return (
    <span className="flex gap-1">
      {actions.map((a) => (
        <Button
          key={a.label}
          variant={a.status === 'banned' ? 'ghost' : 'secondary'}
          className="px-2 py-1 text-xs"
          busy={change.isPending && change.variables === a.status}
          onClick={() => change.mutate(a.status)}
          aria-label={`${a.label} ${enrollment.partner.name}`}
        >
          {a.label}
        </Button>
      ))}
    </span>
  );
}

function EnrollmentsCard({ onAdd }: { onAdd: () => void }) {
  const pager = usePager();
  const programs = usePrograms();
  const [filters, setFilters] = useState<{ programId?: string; status?: EnrollmentStatus; tag?: string }>({});
  const [tagging, setTagging] = useState<Enrollment>();
  const enrollments = useQuery({
    queryKey: ['enrollments', filters, pager.cursor],
    queryFn: () => call(endpoints.listEnrollments, { query: { ...filters, cursor: pager.cursor } }),
  });
  const programName = (id: string) => programs.data?.data.find((p) => p.id === id)?.name ?? id;
  const filtered = Boolean(filters.programId || filters.status || filters.tag);
  return (
    <Card
      title="Enrollments"
      actions={
        <div className="flex flex-wrap gap-2">
          <select
            aria-label="Filter by program"
            className="rounded-lg border-0 bg-white py-1.5 text-sm ring-1 ring-slate-300 dark:bg-slate-900 dark:ring-slate-700"
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
          <input
            aria-label="Filter by tag"
            placeholder="tag"
            className="w-28 rounded-lg border-0 bg-white px-2 py-1.5 text-sm ring-1 ring-slate-300 dark:bg-slate-900 dark:ring-slate-700"
            defaultValue={filters.tag ?? ''}
            onKeyDown={(e) => {
              if (e.key !== 'Enter') return;
              pager.reset();
              setFilters({ ...filters, tag: e.currentTarget.value.trim() || undefined });
            }}
          />
          <select
            aria-label="Filter by status"
            className="rounded-lg border-0 bg-white py-1.5 text-sm ring-1 ring-slate-300 dark:bg-slate-900 dark:ring-slate-700"
            value={filters.status ?? ''}
            onChange={(e) => (
              pager.reset(),
              setFilters({ ...filters, status: (e.target.value || undefined) as EnrollmentStatus | undefined })
            )}
          >
            <option value="">Any status</option>
            {Object.keys(enrollmentTone).map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
      }
    >
      {enrollments.isPending ? (
        <Skeleton rows={5} />
      ) : enrollments.error ? (
        <ErrorNote error={enrollments.error} />
      ) : enrollments.data.data.length === 0 ? (
        filtered ? (
          <EmptyState
            title="No partner matches these filters"
            action={
              <Button variant="secondary" onClick={() => setFilters({})}>
                Clear filters
              </Button>
            }
          />
        ) : (
          <EmptyState title="No partners yet" action={<Button onClick={onAdd}>Add your first partner</Button>}>
            Add creators, affiliates or another brand to a program. Each gets a tracked link and a coupon code.
          </EmptyState>
        )
      ) : (
        <>
          <Table
            label="Enrollments"
            rows={enrollments.data.data}
            rowKey={(e) => e.id}
            columns={[
              {
                header: 'Partner',
                cell: (e) => (
                  <div>
                    <p className="font-medium text-slate-900 dark:text-white">
                      {e.partner.name} {e.partner.isBrand && <Badge tone="indigo">brand</Badge>}
                    </p>
                    <p className="text-xs text-slate-500">{e.partner.email}</p>
                  </div>
                ),
              },
              { header: 'Program', cell: (e) => programName(e.programId) },
              { header: 'Status', cell: (e) => <Badge tone={enrollmentTone[e.status]}>{e.status}</Badge> },
              {
                header: 'Tags',
                cell: (e) => (
                  <button
                    className="flex flex-wrap items-center gap-1 rounded text-left hover:ring-1 hover:ring-slate-300"
                    onClick={() => setTagging(e)}
                    aria-label={`Edit tags of ${e.partner.name}`}
                  >
                    {e.tags.length ? (
                      e.tags.map((t) => <Badge key={t}>{t}</Badge>)
                    ) : (
                      <span className="text-xs text-slate-400">add tags</span>
                    )}
                  </button>
                ),
              },
              {
                header: 'Link',
                cell: (e) =>
                  e.link ? (
                    <span className="flex items-center gap-2">
                      <code className="text-xs">{e.link.shortUrl}</code>
                      <CopyButton value={e.link.shortUrl} />
                    </span>
                  ) : (
                    '—'
                  ),
              },
              { header: 'Coupon', cell: (e) => (e.couponCode ? <code className="text-xs">{e.couponCode}</code> : '—') },
              {
                header: 'Statement',
                cell: (e) => (
                  <a
                    className="text-xs text-indigo-600 hover:underline"
                    target="_blank"
                    rel="noreferrer"
                    href={urlOf(endpoints.partnerStatementHtml, { params: { id: e.partner.id }, query: { programId: e.programId } })}
                    aria-label={`Statement of ${e.partner.name}`}
                  >
                    View
                  </a>
                ),
              },
              { header: '', cell: (e) => <StatusActions enrollment={e} /> },
            ]}
          />
          <Pager pager={pager} nextCursor={enrollments.data.nextCursor} />
        </>
      )}
      <TagsModal enrollment={tagging} onClose={() => setTagging(undefined)} />
    </Card>
  );
}

/** Manual approval: an admin decides alone by changing the enrollment's status. */
function DecideForm({ application }: { application: Application }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const decide = useMutation({
    mutationFn: (status: 'approved' | 'rejected') =>
      call(endpoints.changeEnrollmentStatus, { params: { id: application.enrollmentId }, body: { status } }),
    onSuccess: (e) => {
      toast(`Application ${e.status}`);
      void queryClient.invalidateQueries({ queryKey: ['applications'] });
      void queryClient.invalidateQueries({ queryKey: ['enrollments'] });
    },
    onError: (e) => toast(e.message, 'error'),
  });
  if (application.status !== 'applied') return null;
  return (
    <div className="flex items-start gap-2">
      <Button
        onClick={() => decide.mutate('approved')}
        busy={decide.isPending && decide.variables === 'approved'}
        aria-label={`Approve ${application.partner.name}`}
      >
        Approve
      </Button>
      <Button
        variant="secondary"
        onClick={() => decide.mutate('rejected')}
        busy={decide.isPending && decide.variables === 'rejected'}
        aria-label={`Reject ${application.partner.name}`}
      >
        Reject
      </Button>
    </div>
  );
}

/** Council approval: each reviewer votes once; the quorum decides. */
function VoteForm({ application }: { application: Application }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const me = useMe();
  const [comment, setComment] = useState('');
  const vote = useMutation({
    mutationFn: (decision: 'approve' | 'reject') =>
      call(endpoints.voteOnApplication, {
        params: { id: application.id },
        body: { decision, ...(comment.trim() ? { comment: comment.trim() } : {}) },
      }),
    onSuccess: (a) => {
      toast(a.status === 'applied' ? 'Vote recorded; waiting for the rest of the council' : `Application ${a.status}`);
      void queryClient.invalidateQueries({ queryKey: ['applications'] });
      void queryClient.invalidateQueries({ queryKey: ['enrollments'] });
    },
    onError: (e) => toast(e.message, 'error'),
  });
  const voted = application.votes.some((v) => v.reviewerId === me.data?.user?.id);
  if (application.status !== 'applied') return null;
  if (voted) return <p className="text-sm text-slate-500">You voted. Waiting for the rest of the council.</p>;
  return (
    <div className="space-y-2">
      <TextArea label="Comment (optional)" rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />
      <div className="flex gap-2">
        <Button
          onClick={() => vote.mutate('approve')}
          busy={vote.isPending && vote.variables === 'approve'}
          aria-label={`Approve ${application.partner.name}`}
        >
          Approve
        </Button>
        <Button
          variant="secondary"
          onClick={() => vote.mutate('reject')}
          busy={vote.isPending && vote.variables === 'reject'}
          aria-label={`Reject ${application.partner.name}`}
        >
          Reject
        </Button>
      </div>
    </div>
  );
}

function ApplicationsCard() {
  const [status, setStatus] = useState<'applied' | 'approved' | 'rejected'>('applied');
  const pager = usePager();
  const applications = useQuery({
    queryKey: ['applications', status, pager.cursor],
    queryFn: () => call(endpoints.listApplications, { query: { status, cursor: pager.cursor } }),
  });
  const programs = usePrograms();
  const isCouncil = (programId: string) => programs.data?.data.find((p) => p.id === programId)?.approval.mode === 'council';
  return (
    <Card
      title="Applications"
      actions={
        <div role="tablist" aria-label="Application status" className="flex gap-1">
          {(['applied', 'approved', 'rejected'] as const).map((s) => (
            <button
              key={s}
              role="tab"
              aria-selected={status === s}
              onClick={() => (pager.reset(), setStatus(s))}
              className={`rounded-md px-2.5 py-1 text-xs font-medium ${status === s ? 'bg-indigo-50 text-indigo-700 dark:bg-indigo-950 dark:text-indigo-300' : 'text-slate-600 hover:bg-slate-100 dark:text-slate-400 dark:hover:bg-slate-800'}`}
            >
              {s === 'applied' ? 'Waiting' : s}
            </button>
          ))}
        </div>
      }
    >
      {applications.isPending ? (
        <Skeleton rows={3} />
      ) : applications.error ? (
        <ErrorNote error={applications.error} />
      ) : applications.data.data.length === 0 ? (
        <EmptyState title={status === 'applied' ? 'No applications waiting' : `No ${status} applications`}>
          {status === 'applied' ? 'Share your program’s application page (/apply/your-program-slug) to receive applications.' : null}
        </EmptyState>
      ) : (
        <ul className="divide-y divide-slate-100 dark:divide-slate-800">
          {applications.data.data.map((a) => (
            <li key={a.id} className="grid gap-4 py-4 first:pt-0 md:grid-cols-2">
              <div>
                <p className="font-medium text-slate-900 dark:text-white">{a.partner.name}</p>
                <p className="text-sm text-slate-500">
                  {a.partner.email}
                  {a.website ? ` · ${a.website}` : ''}
                  {a.audienceSize !== null ? ` · audience ${a.audienceSize.toLocaleString()}` : ''}
                </p>
                {a.message && <p className="mt-2 text-sm">“{a.message}”</p>}
                <p className="mt-2 text-xs text-slate-500">Applied {formatDate(a.createdAt)}</p>
                {a.votes.length > 0 && (
                  <ul className="mt-2 space-y-1 text-xs">
                    {a.votes.map((v) => (
                      <li key={v.reviewerId}>
                        <Badge tone={v.decision === 'approve' ? 'green' : 'rose'}>{v.decision}</Badge> {v.comment ?? ''}
                      </li>
                    ))}
                  </ul>
                )}
                {a.decisionReason && <p className="mt-2 text-xs text-slate-500">Decision: {a.decisionReason}</p>}
              </div>
              {isCouncil(a.programId) ? <VoteForm application={a} /> : <DecideForm application={a} />}
            </li>
          ))}
        </ul>
      )}
      {applications.data && <Pager pager={pager} nextCursor={applications.data.nextCursor} />}
    </Card>
  );
}

export function PartnersPage() {
  const [adding, setAdding] = useState(false);
  return (
    <>
      <PageHeader
        title="Partners"
        description="Everyone who promotes your programs, and who wants to."
        actions={<Button onClick={() => setAdding(true)}>Add partner</Button>}
      />
      <div className="space-y-6">
        <ApplicationsCard />
        <EnrollmentsCard onAdd={() => setAdding(true)} />
      </div>
      <AddPartnerModal open={adding} onClose={() => setAdding(false)} />
    </>
  );
}
