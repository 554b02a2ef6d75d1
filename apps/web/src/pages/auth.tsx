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

export function LoginPage() {
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
      const session = await call(endpoints.login, { body: { email: String(form.get('email')), password: String(form.get('password')) } });
      queryClient.clear();
      // A partner's account belongs to no brand workspace: it lands in the partner portal.
      await navigate({ to: session.workspaces.length ? '/' : '/portal' });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
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
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(undefined);
    try {
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
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
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
