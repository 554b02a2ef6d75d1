import { useEffect, useRef, useState } from 'react';
import { Link, Outlet, useNavigate, useParams } from '@tanstack/react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { endpoints, type PortalEnrollment, type WelcomeKit } from '@tandem/contracts';
import { ApiFailure, call, urlOf } from '../api';
import { formatDate, formatDateTime, formatMoney } from '../lib/format';
import { usePortalEnrollments } from '../lib/session';
import { useLiveEvents, useLiveUpdates, type LiveEvent } from '../lib/live';
import { AppFrame, type NavItem } from '../shell';
import { AuthAction, AuthFrame, fieldErrors } from './auth';
import { describeRules } from './programs';
import { QrCode } from '../ui/qr';
import { Badge, Button, Card, CopyButton, EmptyState, ErrorNote, Field, PageHeader, Skeleton, useToast } from '../ui/kit';

export const portalNav: NavItem[] = [
  { to: '/portal', label: 'My programs', icon: '◎' },
  { to: '/portal/earnings', label: 'Earnings', icon: '$' },
  { to: '/portal/statements', label: 'Statements', icon: '≡' },
  { to: '/portal/disputes', label: 'Disputes', icon: '⚑' },
];

export function PortalSignupPage() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(undefined);
    try {
      await call(endpoints.portalSignup, {
        body: { name: String(form.get('name')), email: String(form.get('email')), password: String(form.get('password')) },
      });
      queryClient.clear();
      await navigate({ to: '/portal' });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  const names = ['name', 'email', 'password'];
  const errors = fieldErrors(error, names);
  return (
    <AuthFrame
      title="Partner sign up"
      subtitle="Use the email address the brand invited. We mail you a link to confirm it; your programs, links and earnings appear once you have."
      footer={
        <>
          Already a partner?{' '}
          <Link to="/login" className="font-medium text-indigo-600 hover:underline">
            Sign in
          </Link>
        </>
      }
    >
      <form onSubmit={submit} className="space-y-4" noValidate>
        <Field label="Your name" name="name" autoComplete="name" required error={errors.name} />
        <Field label="Email" name="email" type="email" autoComplete="email" required error={errors.email} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          error={errors.password}
          hint="At least 10 characters."
        />
        {error && !names.some((n) => errors[n]) ? <ErrorNote error={error} /> : null}
        <Button type="submit" busy={busy} className="w-full">
          Create partner account
        </Button>
      </form>
    </AuthFrame>
  );
}

export function PortalLayout() {
  const enrollments = usePortalEnrollments();
  useLiveUpdates(Boolean(enrollments.data), endpoints.portalStream.path);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  useEffect(() => {
    if (enrollments.data === null) void navigate({ to: '/login' });
  }, [enrollments.data, navigate]);
  if (!enrollments.data) {
    return (
      <div className="mx-auto max-w-3xl p-10">{enrollments.error ? <ErrorNote error={enrollments.error} /> : <Skeleton rows={5} />}</div>
    );
  }
  async function signOut() {
    await call(endpoints.logout);
    queryClient.clear();
    await navigate({ to: '/login' });
  }
  return (
    <AppFrame
      nav={portalNav}
      title="Partner portal"
      footer={
        <button onClick={signOut} className="font-medium text-slate-700 hover:text-indigo-600 dark:text-slate-300">
          Sign out
        </button>
      }
    >
      <Outlet />
    </AppFrame>
  );
}

function TermsBanner({ enrollment, termsText }: { enrollment: PortalEnrollment; termsText?: string }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const accept = useMutation({
    mutationFn: () => call(endpoints.acceptPortalTerms, { params: { id: enrollment.id } }),
    onSuccess: () => {
      toast('Terms accepted');
      void queryClient.invalidateQueries({ queryKey: ['portal-enrollments'] });
      void queryClient.invalidateQueries({ queryKey: ['welcome-kit', enrollment.id] });
    },
  });
  const t = enrollment.terms;
  if (t.currentVersion === 0 || (!t.needsAcceptance && t.acceptedVersion === t.currentVersion)) return null;
  return (
    <div
      role="region"
      aria-label="Terms to accept"
      className="rounded-lg bg-amber-50 p-4 text-sm text-amber-900 ring-1 ring-amber-200 dark:bg-amber-950 dark:text-amber-100 dark:ring-amber-900"
    >
      <p className="font-medium">
        {enrollment.brand.name} published terms version {t.currentVersion}.{' '}
        {t.graceEndsAt ? `Accept them before ${formatDate(t.graceEndsAt)} to keep earning.` : 'Accept them to keep earning.'}
      </p>
      {termsText && <p className="mt-2 max-h-40 overflow-auto whitespace-pre-wrap text-amber-800 dark:text-amber-200">{termsText}</p>}
      <Button className="mt-3" busy={accept.isPending} onClick={() => accept.mutate()}>
        Accept terms v{t.currentVersion}
      </Button>
      {accept.error ? (
        <div className="mt-2">
          <ErrorNote error={accept.error} />
        </div>
      ) : null}
    </div>
  );
}

const activityText: Record<string, string> = {
  'commission.created': 'New commission',
  'commission.payable': 'Commission now payable',
  'commission.reversed': 'Commission reversed',
  'payout.created': 'Payout on its way',
  'payout.paid': 'Payout paid',
  'payout.failed': 'Payout failed',
  'dispute.updated': 'Dispute updated',
  'dispute.decided': 'Dispute decided',
  'partner.enrolled': 'Joined a program',
};

/** Describes one of the partner's own events in a sentence. */
export function describePartnerEvent(e: Pick<LiveEvent, 'type' | 'data'>): string {
  const label = activityText[e.type] ?? e.type;
  const { amount, currency, status } = e.data as { amount?: unknown; currency?: unknown; status?: unknown };
  const money = typeof amount === 'number' && typeof currency === 'string' ? ` · ${formatMoney(amount, currency)}` : '';
  return `${label}${money}${e.type.startsWith('dispute') && typeof status === 'string' ? ` · ${status}` : ''}`;
}

function PortalActivity() {
  const [events, setEvents] = useState<{ id: string; text: string; at: Date }[]>([]);
  useLiveEvents((e) =>
    setEvents((list) => [{ id: e.id || `${e.type}-${Date.now()}`, text: describePartnerEvent(e), at: new Date() }, ...list].slice(0, 10)),
  );
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
        <p className="text-sm text-slate-500">Commissions and payouts appear here the moment a brand records them.</p>
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

/** Whether the signed-in user has confirmed its email (brands' partner rows link only then). */
function usePortalEmailStatus() {
  return useQuery({ queryKey: ['portal-email'], queryFn: () => call(endpoints.getPortalEmailStatus) });
}

/** Tells an unconfirmed partner why it sees no programs yet, and lets it ask for a new link. */
function EmailVerificationBanner({ email }: { email: string }) {
  const toast = useToast();
  const resend = useMutation({
    mutationFn: () => call(endpoints.resendPortalEmailVerification),
    onSuccess: () => toast('A new link is on its way'),
  });
  return (
    <div
      role="region"
      aria-label="Confirm your email"
      className="mb-6 rounded-lg bg-indigo-50 p-4 text-sm text-indigo-900 ring-1 ring-indigo-200 dark:bg-indigo-950 dark:text-indigo-100 dark:ring-indigo-900"
    >
      <p className="font-medium">Check your inbox to confirm {email}.</p>
      <p className="mt-1 text-indigo-800 dark:text-indigo-200">
        We sent you a link. The programs brands added you to under this address, with your links, coupon codes and earnings, appear here
        once you open it. Nothing is shown before, so that nobody else can sign up with your address and see them.
      </p>
      <Button className="mt-3" variant="secondary" busy={resend.isPending} onClick={() => resend.mutate()}>
        Send a new link
      </Button>
      {resend.error ? (
        <div className="mt-2">
          <ErrorNote error={resend.error} />
        </div>
      ) : null}
    </div>
  );
}

export function PortalHomePage() {
  const enrollments = usePortalEnrollments();
  const emailStatus = usePortalEmailStatus();
  const list = enrollments.data?.data ?? [];
  const unverified = emailStatus.data?.emailVerified === false;
  return (
    <>
      <PageHeader title="My programs" description="Every brand you promote, your links and where you stand." />
      {emailStatus.data && unverified ? <EmailVerificationBanner email={emailStatus.data.email} /> : null}
      <div className="mb-6">
        <PortalActivity />
      </div>
      {list.length === 0 && (unverified || emailStatus.isPending) ? null : list.length === 0 ? (
        <EmptyState title="No programs yet">
          When a brand adds you with this email address, or approves your application, the program appears here.
        </EmptyState>
      ) : (
        <div className="grid gap-6 md:grid-cols-2">
          {list.map((e) => (
            <Card
              key={e.id}
              title={
                <span>
                  {e.program.name} <span className="font-normal text-slate-500">· {e.brand.name}</span>
                </span>
              }
              actions={
                <Badge tone={e.status === 'approved' ? 'green' : e.status === 'banned' || e.status === 'suspended' ? 'rose' : 'amber'}>
                  {e.status}
                </Badge>
              }
            >
              <div className="space-y-4">
                <TermsBanner enrollment={e} />
                {e.links.slice(0, 1).map((l) => (
                  <div key={l.id} className="flex items-center gap-4">
                    <QrCode value={l.shortUrl} size={88} />
                    <div className="min-w-0 space-y-2">
                      <p className="text-xs font-medium uppercase tracking-wide text-slate-500">Your link</p>
                      <code className="block truncate text-sm" data-testid="partner-link">
                        {l.shortUrl}
                      </code>
                      <CopyButton value={l.shortUrl} label="Copy link" />
                    </div>
                  </div>
                ))}
                {e.couponCode && (
                  <p className="text-sm">
                    Coupon code <code className="rounded bg-slate-100 px-1.5 py-0.5 dark:bg-slate-800">{e.couponCode}</code>
                  </p>
                )}
                <Link
                  to="/portal/programs/$enrollmentId"
                  params={{ enrollmentId: e.id }}
                  className="inline-block text-sm font-medium text-indigo-600 hover:underline"
                >
                  Welcome kit, assets and milestones →
                </Link>
              </div>
            </Card>
          ))}
        </div>
      )}
    </>
  );
}

/** Ready-to-post copy with the partner's own link and coupon filled in. */
export function copySnippets(kit: WelcomeKit): { title: string; text: string }[] {
  const link = kit.links.find((l) => l.isDefault)?.shortUrl ?? kit.links[0]?.shortUrl;
  if (!link) return [];
  const coupon = kit.couponCode ? ` Use code ${kit.couponCode} at checkout.` : '';
  return [
    { title: 'Short post', text: `I use ${kit.program.brand} every day and love it. Try it here: ${link}${coupon}` },
    {
      title: 'Newsletter blurb',
      text: `This week's pick: ${kit.program.brand}. It has earned a permanent place in my toolkit — see for yourself at ${link}.${coupon}`,
    },
    { title: 'Link in bio', text: `${kit.program.brand} → ${link}` },
  ];
}

export function PortalProgramPage() {
  const { enrollmentId } = useParams({ from: '/portal-shell/portal/programs/$enrollmentId' });
  const kit = useQuery({
    queryKey: ['welcome-kit', enrollmentId],
    queryFn: () => call(endpoints.getPortalWelcomeKit, { params: { id: enrollmentId } }),
  });
  const enrollments = usePortalEnrollments();
  const enrollment = enrollments.data?.data.find((e) => e.id === enrollmentId);
  if (kit.isPending) return <Skeleton rows={8} />;
  if (kit.error) return <ErrorNote error={kit.error} />;
  const k = kit.data;
  const achieved = k.milestones.filter((m) => m.achievedAt).length;
  return (
    <>
      <PageHeader
        title={k.program.name}
        description={`${k.program.brand} · you earn ${describeRules(k.program.rules, k.program.currency)} · ${k.program.attributionWindowDays}-day attribution window`}
      />
      <div className="space-y-6">
        {enrollment && <TermsBanner enrollment={enrollment} termsText={k.terms?.text} />}
        <div className="grid gap-6 lg:grid-cols-2">
          <Card title="Your links">
            <ul className="space-y-4">
              {k.links.map((l) => (
                <li key={l.id} className="flex items-center gap-4">
                  <QrCode value={l.shortUrl} size={96} />
                  <div className="min-w-0 space-y-1">
                    <code className="block truncate text-sm">{l.shortUrl}</code>
                    <p className="truncate text-xs text-slate-500">→ {l.destinationUrl}</p>
                    <CopyButton value={l.shortUrl} label="Copy link" />
                  </div>
                </li>
              ))}
            </ul>
          </Card>
          <Card
            title={`Onboarding · ${achieved} of ${k.milestones.length} done`}
            actions={
              <a
                href={urlOf(endpoints.getPortalCalendar, { params: { id: enrollmentId } })}
                download
                className="text-sm font-medium text-indigo-600 hover:underline"
              >
                Add to calendar (.ics)
              </a>
            }
          >
            <ol className="space-y-3" aria-label="Milestones">
              {k.milestones.map((m) => (
                <li key={m.id} className="flex items-start gap-3">
                  <span
                    aria-hidden
                    className={`mt-0.5 grid size-5 shrink-0 place-items-center rounded-full text-xs ${m.achievedAt ? 'bg-emerald-500 text-white' : 'ring-1 ring-slate-300'}`}
                  >
                    {m.achievedAt ? '✓' : ''}
                  </span>
                  <div>
                    <p className="text-sm font-medium">
                      {m.title}
                      <span className="sr-only">{m.achievedAt ? ' (done)' : ' (to do)'}</span>
                    </p>
                    <p className="text-xs text-slate-500">
                      {m.achievedAt ? `Done ${formatDateTime(m.achievedAt)}` : `Target ${formatDate(m.date)}`} · {m.description}
                    </p>
                  </div>
                </li>
              ))}
            </ol>
          </Card>
        </div>
        <Card title="Ready-to-post copy">
          {copySnippets(k).length === 0 ? (
            <p className="text-sm text-slate-500">Your link appears here once the brand approves you.</p>
          ) : (
            <ul className="grid gap-4 md:grid-cols-3">
              {copySnippets(k).map((s) => (
                <li key={s.title} className="flex flex-col justify-between gap-3 rounded-lg bg-slate-50 p-4 text-sm dark:bg-slate-800">
                  <div>
                    <p className="mb-1 text-xs font-medium uppercase tracking-wide text-slate-500">{s.title}</p>
                    <p>{s.text}</p>
                  </div>
                  <CopyButton value={s.text} label="Copy text" />
                </li>
              ))}
            </ul>
          )}
          {k.assets.length > 0 && (
            <ul className="mt-4 flex flex-wrap gap-3">
              {k.assets.map((a) => (
                <li key={a.url}>
                  <a href={a.url} className="text-sm text-indigo-600 hover:underline" target="_blank" rel="noreferrer noopener">
                    {a.name}
                  </a>
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
    </>
  );
}

type Verification = { state: 'verifying' } | { state: 'verified' } | { state: 'failed'; error: unknown };

/** Where the mailed link lands: redeems its token for the signed-in partner. */
export function PortalVerifyEmailPage() {
  const queryClient = useQueryClient();
  const [result, setResult] = useState<Verification>({ state: 'verifying' });
  // A token works once: the redemption must not run twice (React runs effects twice in development).
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    const token = new URLSearchParams(window.location.search).get('token') ?? '';
    call(endpoints.verifyPortalEmail, { body: { token } })
      .then(() => {
        setResult({ state: 'verified' });
        void queryClient.invalidateQueries({ queryKey: ['portal-email'] });
        void queryClient.invalidateQueries({ queryKey: ['portal-enrollments'] });
      })
      .catch((error: unknown) => setResult({ state: 'failed', error }));
  }, [queryClient]);
  const signedOut = result.state === 'failed' && result.error instanceof ApiFailure && result.error.status === 401;
  const toPortal = (
    <Link to="/portal" className="font-medium text-indigo-600 hover:underline">
      Go to the partner portal
    </Link>
  );
  if (result.state === 'verifying') {
    return (
      <AuthFrame title="Confirming your email" subtitle="One moment…" footer={toPortal}>
        <Skeleton rows={2} />
      </AuthFrame>
    );
  }
  if (result.state === 'verified') {
    return (
      <AuthFrame title="Email confirmed" subtitle="Your programs, links and earnings are now in the partner portal." footer={null}>
        <AuthAction to="/portal">See my programs</AuthAction>
      </AuthFrame>
    );
  }
  if (signedOut) {
    return (
      <AuthFrame
        title="Sign in to confirm"
        subtitle="The link confirms the address of the account it was sent to: sign in with that account, then open the link in the mail again."
        footer={null}
      >
        <AuthAction to="/login">Sign in</AuthAction>
      </AuthFrame>
    );
  }
  return (
    <AuthFrame title="This link did not work" subtitle="You can ask for a new link in the partner portal." footer={toPortal}>
      <ErrorNote error={result.error} />
    </AuthFrame>
  );
}
