import { useState } from 'react';
import { Link, useNavigate } from '@tanstack/react-router';
import { useQueryClient } from '@tanstack/react-query';
import { endpoints } from '@tandem/contracts';
import { ApiFailure, call } from '../api';
import { Button, ErrorNote, Field } from '../ui/kit';

export function AuthFrame({
  title,
  subtitle,
  children,
  footer,
}: {
  title: string;
  subtitle: string;
  children: React.ReactNode;
  footer: React.ReactNode;
}) {
  return (
    <div className="flex min-h-screen flex-col items-center justify-center bg-gradient-to-br from-indigo-50 via-white to-sky-50 px-4 py-12 dark:from-slate-950 dark:via-slate-950 dark:to-indigo-950">
      <div className="mb-8 flex items-center gap-2 text-xl font-semibold text-slate-900 dark:text-white">
        <Logo /> Tandem
      </div>
      <main className="w-full max-w-sm rounded-2xl bg-white p-8 shadow-xl ring-1 ring-slate-200 dark:bg-slate-900 dark:ring-slate-800">
        <h1 className="text-2xl font-semibold tracking-tight text-slate-900 dark:text-white">{title}</h1>
        <p className="mt-1 mb-6 text-sm text-slate-500">{subtitle}</p>
        {children}
      </main>
      <div className="mt-6 text-sm text-slate-600 dark:text-slate-400">{footer}</div>
    </div>
  );
}

/** The one way on from a finished auth step (a full-width link styled as the primary button). */
export function AuthAction({ to, children }: { to: '/login' | '/portal'; children: React.ReactNode }) {
  return (
    <Link to={to} className="block w-full rounded-lg bg-indigo-600 px-4 py-2 text-center text-sm font-medium text-white shadow-sm hover:bg-indigo-500">
      {children}
    </Link>
  );
}

/** A status note above the way on: something the person should know about what just happened. */
function AuthNote({ children }: { children: React.ReactNode }) {
  return (
    <p role="status" className="mb-4 rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-800 dark:bg-amber-950 dark:text-amber-200">
      {children}
    </p>
  );
}

export function Logo() {
  return (
    <span aria-hidden className="grid size-8 place-items-center rounded-lg bg-indigo-600 text-sm font-bold text-white shadow">
      T
    </span>
  );
}

/** Field errors of a failed form, keyed by field name. */
export function fieldErrors(error: unknown, names: string[]): Record<string, string | undefined> {
  if (!(error instanceof ApiFailure)) return {};
  return Object.fromEntries(names.map((n) => [n, error.fieldError(n)]));
}

/** A form's submission: runs `action` with the form's fields, keeping the busy flag and the failure. */
function useSubmit(action: (form: FormData) => Promise<void>) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(undefined);
    try {
      await action(form);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return { submit, error, busy };
}

export function LoginPage() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { submit, error, busy } = useSubmit(async (form) => {
    const session = await call(endpoints.login, { body: { email: String(form.get('email')), password: String(form.get('password')) } });
    queryClient.clear();
    // A partner's account belongs to no brand workspace: it lands in the partner portal.
    await navigate({ to: session.workspaces.length ? '/' : '/portal' });
  });
  const errors = fieldErrors(error, ['email', 'password']);
  return (
    <AuthFrame
      title="Sign in"
      subtitle="Welcome back to your partner programs."
      footer={
        <>
          New to Tandem?{' '}
          <Link to="/signup" className="font-medium text-indigo-600 hover:underline">
            Create a workspace
          </Link>{' '}
          or{' '}
          <Link to="/portal/signup" className="font-medium text-indigo-600 hover:underline">
            join as a partner
          </Link>
        </>
      }
    >
      <form onSubmit={submit} className="space-y-4" noValidate>
        <Field label="Email" name="email" type="email" autoComplete="email" required error={errors.email} />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required error={errors.password} />
        <p className="-mt-2 text-right text-sm">
          <Link to="/forgot-password" className="font-medium text-indigo-600 hover:underline">
            Forgot password?
          </Link>
        </p>
        {error && !errors.email && !errors.password ? <ErrorNote error={error} /> : null}
        <Button type="submit" busy={busy} className="w-full">
          Sign in
        </Button>
      </form>
    </AuthFrame>
  );
}

export function SignupPage() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { submit, error, busy } = useSubmit(async (form) => {
    await call(endpoints.signup, {
      body: {
        name: String(form.get('name')),
        workspaceName: String(form.get('workspaceName')),
        email: String(form.get('email')),
        password: String(form.get('password')),
      },
    });
    queryClient.clear();
    await navigate({ to: '/' });
  });
  const names = ['name', 'workspaceName', 'email', 'password'];
  const errors = fieldErrors(error, names);
  const unnamed = error && !names.some((n) => errors[n]);
  return (
    <AuthFrame
      title="Create your workspace"
      subtitle="Run partner and referral programs on your own infrastructure."
      footer={
        <>
          Already have an account?{' '}
          <Link to="/login" className="font-medium text-indigo-600 hover:underline">
            Sign in
          </Link>
        </>
      }
    >
      <form onSubmit={submit} className="space-y-4" noValidate>
        <Field label="Your name" name="name" autoComplete="name" required error={errors.name} />
        <Field label="Brand name" name="workspaceName" autoComplete="organization" required error={errors.workspaceName} />
        <Field label="Work email" name="email" type="email" autoComplete="email" required error={errors.email} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          error={errors.password}
          hint="At least 10 characters."
        />
        {unnamed ? <ErrorNote error={error} /> : null}
        <Button type="submit" busy={busy} className="w-full">
          Create workspace
        </Button>
      </form>
    </AuthFrame>
  );
}

const backToSignIn = (
  <Link to="/login" className="font-medium text-indigo-600 hover:underline">
    Back to sign in
  </Link>
);

/** Asks for a reset link. The server answers alike whether or not an account uses the address, and so does this page. */
export function ForgotPasswordPage() {
  const [sentTo, setSentTo] = useState<string>();
  const { submit, error, busy } = useSubmit(async (form) => {
    const answer = await call(endpoints.requestPasswordReset, { body: { email: String(form.get('email')) } });
    setSentTo(answer.email);
  });
  if (sentTo) {
    return (
      <AuthFrame title="Check your mail" subtitle={`If an account uses ${sentTo}, a link to choose a new password is on its way. It works once, for one hour.`} footer={backToSignIn}>
        <p className="text-sm text-slate-600 dark:text-slate-400">No mail after a few minutes? Look in the spam folder, or ask again in a minute.</p>
      </AuthFrame>
    );
  }
  const errors = fieldErrors(error, ['email']);
  return (
    <AuthFrame title="Reset your password" subtitle="We mail a link to choose a new one to the address of your account." footer={backToSignIn}>
      <form onSubmit={submit} className="space-y-4" noValidate>
        <Field label="Email" name="email" type="email" autoComplete="email" required error={errors.email} />
        {error && !errors.email ? <ErrorNote error={error} /> : null}
        <Button type="submit" busy={busy} className="w-full">
          Mail me a link
        </Button>
      </form>
    </AuthFrame>
  );
}

/** The mailed link (`?token=`): sets a new password, which also confirms the address and signs out every session. */
export function ResetPasswordPage() {
  const [token] = useState(() => new URLSearchParams(window.location.search).get('token') ?? '');
  const [done, setDone] = useState<{ email: string; revokedApiKeys: number; apiKeysToReview: number }>();
  const { submit, error, busy } = useSubmit(async (form) => {
    const revokeApiKeys = form.get('revokeApiKeys') === 'on';
    setDone(await call(endpoints.confirmPasswordReset, { body: { token, password: String(form.get('password')), revokeApiKeys } }));
  });
  const keys = (n: number) => (n === 1 ? 'One API key' : `${n} API keys`);
  if (done) {
    return (
      <AuthFrame title="Password set" subtitle={`Sign in as ${done.email} with your new password. Every earlier session of the account has ended.`} footer={null}>
        {done.revokedApiKeys > 0 ? (
          <AuthNote>
            {keys(done.revokedApiKeys)} of your workspaces {done.revokedApiKeys === 1 ? 'was' : 'were'} revoked, as you asked. Create new keys in
            Settings for the integrations you trust.
          </AuthNote>
        ) : done.apiKeysToReview > 0 ? (
          <AuthNote>
            This address was not confirmed before. {keys(done.apiKeysToReview)} of your workspaces still{' '}
            {done.apiKeysToReview === 1 ? 'works' : 'work'}: if you did not create this account, whoever did could have made{' '}
            {done.apiKeysToReview === 1 ? 'it' : 'them'}. Review them in Settings → API keys and revoke any you do not know.
          </AuthNote>
        ) : null}
        <AuthAction to="/login">Sign in</AuthAction>
      </AuthFrame>
    );
  }
  const errors = fieldErrors(error, ['token', 'password']);
  return (
    <AuthFrame
      title="Choose a new password"
      subtitle="Setting it also confirms your email address and signs out everyone using the account."
      footer={backToSignIn}
    >
      <form onSubmit={submit} className="space-y-4" noValidate>
        <Field
          label="New password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          error={errors.password}
          hint="At least 10 characters."
        />
        <label className="flex items-start gap-2 text-sm text-slate-600 dark:text-slate-300">
          <input type="checkbox" name="revokeApiKeys" className="mt-0.5 rounded border-slate-300" />
          <span>
            Also revoke every API key of my workspaces — choose this if you did not create this account or think someone else has used it.
            Integrations using those keys stop until you give them new ones.
          </span>
        </label>
        {errors.token ? (
          <p role="alert" className="rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700 dark:bg-rose-950 dark:text-rose-300">
            This link {errors.token}.{' '}
            <Link to="/forgot-password" className="font-medium underline">
              Ask for a new link
            </Link>
          </p>
        ) : error && !errors.password ? (
          <ErrorNote error={error} />
        ) : null}
        <Button type="submit" busy={busy} className="w-full">
          Set password
        </Button>
      </form>
    </AuthFrame>
  );
}
