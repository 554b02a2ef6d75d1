import { useEffect, useMemo, useRef, useState } from 'react';
import { Link, useParams } from '@tanstack/react-router';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  approvalConfig,
  endpoints,
  rulesDocument,
  type ApprovalConfig,
  type Program,
  type ProgramStatus,
  type RulesDocument,
  type UpdateProgramBody,
} from '@tandem/contracts';
import { ApiFailure, call, describeError, urlOf } from '../api';
import { formatDate, formatDateTime, formatMoney } from '../lib/format';
import { Badge, Button, Card, ErrorNote, Field, PageHeader, SelectField, Skeleton, TextArea, useToast } from '../ui/kit';
import { describeRules, statusTone } from './programs';

export interface RulesCheck {
  rules?: RulesDocument;
  problems: { path: string; message: string }[];
}

/** Validates rules text as the server will: JSON first, then the shared rules contract. */
export function checkRules(text: string): RulesCheck {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { problems: [{ path: '', message: `Not valid JSON: ${(error as Error).message}` }] };
  }
  const result = rulesDocument.safeParse(parsed);
  if (result.success) return { rules: result.data, problems: [] };
  return { problems: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) };
}

function RulesEditor({ program }: { program: Program }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const [text, setText] = useState(() => JSON.stringify(program.rules, null, 2));
  const check = useMemo(() => checkRules(text), [text]);
  const dirty = text !== JSON.stringify(program.rules, null, 2);
  const save = useMutation({
    mutationFn: (rules: RulesDocument) => call(endpoints.updateProgram, { params: { id: program.id }, body: { rules } }),
    onSuccess: (updated) => {
      toast(`Rules saved as version ${updated.rulesVersion}`);
      queryClient.setQueryData(['program', program.id], updated);
      void queryClient.invalidateQueries({ queryKey: ['programs'] });
      void queryClient.invalidateQueries({ queryKey: ['rules-versions', program.id] });
    },
  });
  return (
    <Card
      title={`Reward rules · version ${program.rulesVersion}`}
      actions={
        <Badge tone={check.problems.length ? 'rose' : 'green'}>
          {check.problems.length ? `${check.problems.length} problem${check.problems.length > 1 ? 's' : ''}` : 'Valid'}
        </Badge>
      }
    >
      <TextArea
        label="Rules document (JSON)"
        rows={14}
        value={text}
        spellCheck={false}
        onChange={(e) => setText(e.target.value)}
        error={
          check.problems.length ? (
            <ul className="space-y-0.5">
              {check.problems.map((p) => (
                <li key={`${p.path}:${p.message}`}>
                  {p.path ? <code>{p.path}</code> : null} {p.message}
                </li>
              ))}
            </ul>
          ) : undefined
        }
        hint={check.rules ? `Partners earn: ${describeRules(check.rules, program.currency)}` : undefined}
      />
      <div className="mt-4 flex items-center gap-3">
        <Button disabled={!check.rules || !dirty} busy={save.isPending} onClick={() => check.rules && save.mutate(check.rules)}>
          Save as new version
        </Button>
        {dirty && <span className="text-xs text-slate-500">Unsaved changes. Saving never changes commissions already earned.</span>}
      </div>
      {save.error ? (
        <div className="mt-3">
          <ErrorNote error={save.error} />
        </div>
      ) : null}
      <div className="mt-6 border-t border-slate-100 pt-5 dark:border-slate-800">
        <h3 className="mb-3 text-sm font-semibold">What would a partner earn?</h3>
        <EarningsPreview program={program} rules={check.rules} />
      </div>
    </Card>
  );
}

/** The value, once it has stopped changing for `ms` (compared by content, not identity). */
function useDebounced<T>(value: T, ms: number): T {
  const key = JSON.stringify(value);
  const [debounced, setDebounced] = useState(value);
  const latest = useRef(value);
  latest.current = value;
  useEffect(() => {
    const t = setTimeout(() => setDebounced(latest.current), ms);
    return () => clearTimeout(t);
  }, [key, ms]);
  return debounced;
}

/** "What would a partner earn": the server evaluates the rules being edited, unsaved. */
function EarningsPreview({ program, rules }: { program: Program; rules: RulesDocument | undefined }) {
  const partners = useQuery({
    queryKey: ['program-partners', program.id],
    queryFn: () => call(endpoints.listProgramPartners, { params: { id: program.id }, query: { status: 'approved', limit: 100 } }),
  });
  const [partnerId, setPartnerId] = useState<string>();
  const [amount, setAmount] = useState(10000);
  const chosen = partnerId ?? partners.data?.data[0]?.partner.id;
  const input = useDebounced({ rules, amount, chosen }, 300);
  const preview = useQuery({
    queryKey: ['preview', program.id, input],
    enabled: Boolean(input.chosen && input.rules),
    // Keep the last answer on screen while the next one is computed, instead of flashing empty.
    placeholderData: keepPreviousData,
    queryFn: () =>
      call(endpoints.previewCommission, {
        params: { id: program.id },
        body: { partnerId: input.chosen!, event: { type: 'sale', amount: input.amount }, rules: input.rules },
      }),
  });
  if (partners.data?.data.length === 0)
    return <p className="text-sm text-slate-500">Add a partner to this program to preview what they would earn.</p>;
  return (
    <div className="space-y-3">
      <div className="grid gap-3 sm:grid-cols-2">
        <SelectField label="Partner" value={chosen ?? ''} onChange={(e) => setPartnerId(e.target.value)}>
          {partners.data?.data.map((e) => (
            <option key={e.partner.id} value={e.partner.id}>
              {e.partner.name}
            </option>
          ))}
        </SelectField>
        <Field
          label={`Sale amount (${program.currency} minor units)`}
          type="number"
          min={0}
          value={amount}
          onChange={(e) => setAmount(Math.max(0, Math.trunc(Number(e.target.value))))}
        />
      </div>
      {preview.error ? (
        <ErrorNote error={preview.error} />
      ) : preview.data ? (
        <div aria-live="polite" className="rounded-lg bg-indigo-50 p-3 text-sm dark:bg-indigo-950">
          <p className="font-medium" data-testid="preview-amount">
            {preview.data.earns
              ? `Earns ${formatMoney(preview.data.amount, preview.data.currency)}`
              : `Earns nothing: ${preview.data.reason ?? 'not eligible'}`}
            <span className="font-normal text-slate-500"> · payable {formatDate(preview.data.payableAt)}</span>
          </p>
          <ol className="mt-2 space-y-0.5 text-xs text-slate-600 dark:text-slate-300">
            {preview.data.explanation.map((step, i) => (
              <li key={i}>
                <Badge>{step.step}</Badge> {step.text}
              </li>
            ))}
          </ol>
        </div>
      ) : (
        <Skeleton rows={1} />
      )}
    </div>
  );
}

const nextStatuses: Record<ProgramStatus, ProgramStatus[]> = {
  draft: ['active'],
  active: ['paused', 'closed'],
  paused: ['active', 'closed'],
  closed: [],
};
const statusVerb: Record<ProgramStatus, string> = { active: 'Activate', paused: 'Pause', closed: 'Close', draft: 'Draft' };

function VersionsCard({ program }: { program: Program }) {
  const versions = useQuery({
    queryKey: ['rules-versions', program.id],
    queryFn: () => call(endpoints.listRulesVersions, { params: { id: program.id } }),
  });
  const terms = useQuery({
    queryKey: ['terms-versions', program.id],
    queryFn: () => call(endpoints.listTermsVersions, { params: { id: program.id } }),
  });
  return (
    <Card title="History">
      {versions.isPending || terms.isPending ? (
        <Skeleton rows={2} />
      ) : versions.error || terms.error ? (
        <ErrorNote error={versions.error ?? terms.error} />
      ) : (
        <ol className="space-y-2 text-sm">
          {versions.data.data.map((v) => (
            <li key={`r${v.version}`} className="flex justify-between gap-2">
              <span>
                Rules v{v.version}: {describeRules(v.rules, program.currency)}
              </span>
              <span className="shrink-0 text-slate-500">{formatDateTime(v.createdAt)}</span>
            </li>
          ))}
          {terms.data.data.map((v) => (
            <li key={`t${v.version}`} className="flex justify-between gap-2">
              <span>Terms v{v.version}</span>
              <span className="shrink-0 text-slate-500">{formatDateTime(v.createdAt)}</span>
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}

function TermsCard({ program }: { program: Program }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const [text, setText] = useState(program.terms?.text ?? '');
  const save = useMutation({
    mutationFn: (body: UpdateProgramBody) => call(endpoints.updateProgram, { params: { id: program.id }, body }),
    onSuccess: (updated) => {
      toast(`Terms saved as version ${updated.termsVersion}; partners will be asked to accept them`);
      queryClient.setQueryData(['program', program.id], updated);
      void queryClient.invalidateQueries({ queryKey: ['programs'] });
      void queryClient.invalidateQueries({ queryKey: ['terms-versions', program.id] });
    },
  });
  return (
    <Card title={`Terms${program.terms ? ` · version ${program.terms.version}` : ''}`}>
      <TextArea
        label="Program terms partners accept"
        rows={5}
        value={text}
        onChange={(e) => setText(e.target.value)}
        hint={`Partners get ${program.termsGraceDays} days to accept a new version.`}
      />
      <Button
        className="mt-3"
        variant="secondary"
        disabled={!text.trim() || text === (program.terms?.text ?? '')}
        busy={save.isPending}
        onClick={() => save.mutate({ terms: { text } })}
      >
        Publish terms
      </Button>
      {save.error ? (
        <div className="mt-3">
          <ErrorNote error={save.error} />
        </div>
      ) : null}
    </Card>
  );
}

function ProgramPartnersCard({ program }: { program: Program }) {
  const partners = useQuery({
    queryKey: ['program-partners', program.id, 'list'],
    queryFn: () => call(endpoints.listProgramPartners, { params: { id: program.id }, query: { limit: 10 } }),
  });
  return (
    <Card
      title="Partners in this program"
      actions={
        <Link to="/partners" className="text-sm font-medium text-indigo-600 hover:underline">
          All partners →
        </Link>
      }
    >
      {partners.isPending ? (
        <Skeleton rows={2} />
      ) : partners.error ? (
        <ErrorNote error={partners.error} />
      ) : partners.data.data.length === 0 ? (
        <p className="text-sm text-slate-500">
          No partners yet. Add them on the{' '}
          <Link to="/partners" className="text-indigo-600 hover:underline">
            Partners
          </Link>{' '}
          page or share the application page below.
        </p>
      ) : (
        <ul className="space-y-2 text-sm">
          {partners.data.data.map((e) => (
            <li key={e.id} className="flex flex-wrap items-center justify-between gap-2">
              <span>
                {e.partner.name} <Badge tone={e.status === 'approved' ? 'green' : 'slate'}>{e.status}</Badge>
              </span>
              <a
                className="text-xs text-indigo-600 hover:underline"
                href={urlOf(endpoints.getEnrollmentCalendar, { params: { id: e.id } })}
                download
              >
                Milestones (.ics)
              </a>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

function DetailsCard({ program }: { program: Program }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const save = useMutation({
    mutationFn: (body: UpdateProgramBody) => call(endpoints.updateProgram, { params: { id: program.id }, body }),
    onSuccess: (updated) => {
      toast('Program details saved');
      queryClient.setQueryData(['program', program.id], updated);
      void queryClient.invalidateQueries({ queryKey: ['programs'] });
    },
  });
  const err = (f: string) =>
    save.error instanceof ApiFailure ? save.error.details.find((d) => d.path === f || d.path.startsWith(`${f}.`))?.message : undefined;
  const named = ['name', 'destinationUrl', 'allowedDomains', 'payoutThreshold', 'attribution'].some((f) => err(f));
  return (
    <Card title="Details">
      <form
        className="space-y-4"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const f = new FormData(e.currentTarget);
          const domains = String(f.get('allowedDomains'))
            .split(/[\s,]+/)
            .filter(Boolean);
          save.mutate({
            name: String(f.get('name')),
            destinationUrl: String(f.get('destinationUrl')),
            allowedDomains: domains,
            payoutThreshold: Math.round(Number(f.get('payoutThreshold'))),
            attribution: { windowDays: Number(f.get('windowDays')) },
          });
        }}
      >
        <Field label="Name" name="name" defaultValue={program.name} error={err('name')} />
        <Field
          label="Destination URL"
          name="destinationUrl"
          type="url"
          defaultValue={program.destinationUrl}
          error={err('destinationUrl')}
        />
        <Field
          label="Other allowed domains"
          name="allowedDomains"
          defaultValue={program.allowedDomains.join(', ')}
          hint="Deep links may point at these too."
          error={err('allowedDomains')}
        />
        <div className="grid grid-cols-2 gap-3">
          <Field
            label={`Payout threshold (${program.currency} minor units)`}
            name="payoutThreshold"
            type="number"
            min={0}
            defaultValue={program.payoutThreshold}
            error={err('payoutThreshold')}
          />
          <Field
            label="Attribution window (days)"
            name="windowDays"
            type="number"
            min={1}
            max={365}
            defaultValue={program.attribution.windowDays}
            error={err('attribution')}
          />
        </div>
        {save.error && !named ? <ErrorNote error={save.error} /> : null}
        <Button type="submit" variant="secondary" busy={save.isPending}>
          Save details
        </Button>
      </form>
    </Card>
  );
}

function ApprovalCard({ program }: { program: Program }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const members = useQuery({ queryKey: ['members', 'all'], queryFn: () => call(endpoints.listMembers, { query: { limit: 100 } }) });
  const [mode, setMode] = useState(program.approval.mode);
  const [reviewers, setReviewers] = useState<string[]>(program.approval.reviewers ?? []);
  const [quorum, setQuorum] = useState(program.approval.quorum ?? 1);
  const save = useMutation({
    mutationFn: (approval: ApprovalConfig) => call(endpoints.updateProgram, { params: { id: program.id }, body: { approval } }),
    onSuccess: (updated) => {
      toast('Approval settings saved');
      queryClient.setQueryData(['program', program.id], updated);
      void queryClient.invalidateQueries({ queryKey: ['programs'] });
    },
  });
  const draft: ApprovalConfig = mode === 'council' ? { mode, reviewers, quorum } : { mode };
  const check = approvalConfig.safeParse(draft);
  const problems = check.success ? [] : check.error.issues.map((i) => `${i.path.join('.') || 'approval'} ${i.message}`);
  return (
    <Card title="Who approves applications">
      <div className="space-y-4">
        <SelectField label="Approval" value={mode} onChange={(e) => setMode(e.target.value as ApprovalConfig['mode'])}>
          <option value="manual">Manual: any admin approves</option>
          <option value="auto">Automatic: everyone who applies</option>
          <option value="council">Council: reviewers vote</option>
        </SelectField>
        {mode === 'council' && (
          <>
            <fieldset>
              <legend className="mb-1 text-sm font-medium">Reviewers</legend>
              {members.data?.data.map((m) => (
                <label key={m.userId} className="flex items-center gap-2 text-sm">
                  <input
                    type="checkbox"
                    checked={reviewers.includes(m.userId)}
                    onChange={(e) => setReviewers(e.target.checked ? [...reviewers, m.userId] : reviewers.filter((r) => r !== m.userId))}
                  />
                  {m.name} <span className="text-slate-500">{m.email}</span>
                </label>
              ))}
            </fieldset>
            <Field
              label="Approvals needed (quorum)"
              type="number"
              min={1}
              value={quorum}
              onChange={(e) => setQuorum(Number(e.target.value))}
            />
          </>
        )}
        {problems.length > 0 && (
          <ul role="alert" className="text-xs text-rose-600">
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        )}
        <div className="flex flex-wrap items-center gap-3">
          <Button
            variant="secondary"
            disabled={!check.success}
            busy={save.isPending}
            onClick={() => check.success && save.mutate(check.data)}
          >
            Save approval settings
          </Button>
        </div>
        {save.error ? <ErrorNote error={save.error} /> : null}
        <p className="text-xs text-slate-500">
          Application page:{' '}
          <a className="text-indigo-600 hover:underline" href={`/apply/${program.slug}`}>
            /apply/{program.slug}
          </a>
        </p>
      </div>
    </Card>
  );
}

export function ProgramPage() {
  const { programId } = useParams({ from: '/console/programs/$programId' });
  const queryClient = useQueryClient();
  const program = useQuery({ queryKey: ['program', programId], queryFn: () => call(endpoints.getProgram, { params: { id: programId } }) });
  const setStatus = useMutation({
    mutationFn: (status: ProgramStatus) => call(endpoints.updateProgram, { params: { id: programId }, body: { status } }),
    onSuccess: (updated) => {
      queryClient.setQueryData(['program', programId], updated);
      void queryClient.invalidateQueries({ queryKey: ['programs'] });
    },
  });
  if (program.isPending) return <Skeleton rows={8} />;
  if (program.error) return <ErrorNote error={program.error} />;
  const p = program.data;
  return (
    <>
      <PageHeader
        title={p.name}
        description={
          <span className="flex flex-wrap items-center gap-2">
            <Badge tone={statusTone[p.status]}>{p.status}</Badge>
            <span>{p.currency}</span>·<span className="break-all">{p.destinationUrl}</span>
          </span>
        }
        actions={nextStatuses[p.status].map((s) => (
          <Button
            key={s}
            variant={s === 'active' ? 'primary' : 'secondary'}
            busy={setStatus.isPending && setStatus.variables === s}
            onClick={() => setStatus.mutate(s)}
          >
            {statusVerb[s]}
          </Button>
        ))}
      />
      {setStatus.error ? <p className="mb-4 text-sm text-rose-600">{describeError(setStatus.error)}</p> : null}
      <div className="grid gap-6 lg:grid-cols-3">
        <div className="space-y-6 lg:col-span-2">
          <RulesEditor key={p.rulesVersion} program={p} />
          <TermsCard key={`t${p.termsVersion}`} program={p} />
        </div>
        <div className="space-y-6">
          <ApprovalCard key={JSON.stringify(p.approval)} program={p} />
          <ProgramPartnersCard program={p} />
          <DetailsCard key={p.updatedAt} program={p} />
          <VersionsCard program={p} />
        </div>
      </div>
    </>
  );
}
