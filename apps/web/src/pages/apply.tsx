import { useState } from 'react';
import { useParams } from '@tanstack/react-router';
import { useMutation, useQuery } from '@tanstack/react-query';
import { endpoints } from '@tandem/contracts';
import { ApiFailure, call, type BodyOf } from '../api';
import { Logo } from './auth';
import { describeRules } from './programs';
import { Button, ErrorNote, Field, Skeleton, TextArea } from '../ui/kit';

/** The public page where a creator applies to a program; no account needed. */
export function ApplyPage() {
  const { slug } = useParams({ from: '/apply/$slug' });
  const program = useQuery({ queryKey: ['public-program', slug], queryFn: () => call(endpoints.getPublicProgram, { params: { slug } }) });
  const [outcome, setOutcome] = useState<string>();
  const apply = useMutation({
    mutationFn: (body: BodyOf<typeof endpoints.applyToProgram>) => call(endpoints.applyToProgram, { params: { slug }, body }),
    onSuccess: (r) => setOutcome(r.status),
  });
  const err = (f: string) => (apply.error instanceof ApiFailure ? apply.error.fieldError(f) : undefined);
  return (
    <div className="min-h-screen bg-gradient-to-br from-indigo-50 via-white to-sky-50 px-4 py-12 dark:from-slate-950 dark:via-slate-950 dark:to-indigo-950">
      <main className="mx-auto max-w-xl rounded-2xl bg-white p-8 shadow-xl ring-1 ring-slate-200 dark:bg-slate-900 dark:ring-slate-800">
        {program.isPending ? (
          <Skeleton rows={6} />
        ) : program.error ? (
          <ErrorNote error={program.error} />
        ) : (
          <>
            <div className="mb-6 flex items-center gap-3">
              <Logo />
              <div>
                <p className="text-sm text-slate-500">{program.data.brand}</p>
                <h1 className="text-2xl font-semibold tracking-tight">{program.data.name}</h1>
              </div>
            </div>
            <p className="mb-6 rounded-lg bg-indigo-50 p-3 text-sm text-indigo-900 dark:bg-indigo-950 dark:text-indigo-200">
              You earn: {describeRules(program.data.rules, program.data.currency)}
            </p>
            {outcome ? (
              <div role="status" className="rounded-lg bg-emerald-50 p-4 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-200">
                {outcome === 'approved'
                  ? 'You are in! Check your email to sign in to the partner portal.'
                  : outcome === 'rejected'
                    ? 'Thanks for applying. This program cannot accept your application right now.'
                    : 'Thanks! The team reviews applications and will email you.'}
              </div>
            ) : !program.data.acceptingApplications ? (
              <p className="text-sm text-slate-600">This program is not accepting applications right now.</p>
            ) : (
              <form
                className="space-y-4"
                noValidate
                onSubmit={(e) => {
                  e.preventDefault();
                  const f = new FormData(e.currentTarget);
                  const audience = String(f.get('audienceSize') ?? '');
                  apply.mutate({
                    name: String(f.get('name')),
                    email: String(f.get('email')),
                    ...(f.get('website') ? { website: String(f.get('website')) } : {}),
                    ...(f.get('message') ? { message: String(f.get('message')) } : {}),
                    ...(audience ? { audienceSize: Number(audience) } : {}),
                  });
                }}
              >
                <Field label="Your name" name="name" required error={err('name')} />
                <Field label="Email" name="email" type="email" required error={err('email')} />
                <Field label="Website or channel" name="website" error={err('website')} />
                <Field label="Audience size" name="audienceSize" type="number" min={0} error={err('audienceSize')} />
                <TextArea label="Why you would be a great partner" name="message" rows={3} />
                {program.data.terms && (
                  <details className="text-sm">
                    <summary className="cursor-pointer font-medium">Program terms (version {program.data.terms.version})</summary>
                    <p className="mt-2 whitespace-pre-wrap text-slate-600">{program.data.terms.text}</p>
                  </details>
                )}
                {apply.error && !['name', 'email', 'website', 'audienceSize'].some(err) ? <ErrorNote error={apply.error} /> : null}
                <Button type="submit" busy={apply.isPending} className="w-full">
                  Apply{program.data.terms ? ' and accept the terms' : ''}
                </Button>
              </form>
            )}
          </>
        )}
      </main>
    </div>
  );
}
