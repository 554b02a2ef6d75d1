import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import './index.css';
import { api, ApiFailure } from './api';

interface Me {
  user: { id: string; email: string; name: string } | null;
  workspace: { id: string; name: string; slug: string; role: string } | null;
}

function SignIn({ onDone }: { onDone: () => void }) {
  const [mode, setMode] = useState<'login' | 'signup'>('login');
  const [error, setError] = useState<string>();
  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = Object.fromEntries(new FormData(event.currentTarget)) as Record<string, string>;
    setError(undefined);
    try {
      await api('POST', mode === 'login' ? '/api/v1/auth/login' : '/api/v1/auth/signup', form);
      onDone();
    } catch (e) {
      setError(e instanceof ApiFailure ? (e.body?.error.details?.map((d) => `${d.path} ${d.message}`).join('; ') ?? e.message) : String(e));
    }
  }
  return (
    <main className="mx-auto mt-24 max-w-sm rounded-xl bg-white p-8 shadow">
      <h1 className="mb-6 text-2xl font-semibold">{mode === 'login' ? 'Sign in to Tandem' : 'Create your workspace'}</h1>
      <form onSubmit={submit} className="space-y-3">
        {mode === 'signup' && <input name="name" placeholder="Your name" className="w-full rounded border px-3 py-2" required />}
        {mode === 'signup' && <input name="workspaceName" placeholder="Brand name" className="w-full rounded border px-3 py-2" required />}
        <input name="email" type="email" placeholder="Email" className="w-full rounded border px-3 py-2" required />
        <input name="password" type="password" placeholder="Password" className="w-full rounded border px-3 py-2" required />
        {error && <p role="alert" className="text-sm text-red-600">{error}</p>}
        <button className="w-full rounded bg-indigo-600 py-2 font-medium text-white">{mode === 'login' ? 'Sign in' : 'Sign up'}</button>
      </form>
      <button className="mt-4 text-sm text-indigo-700" onClick={() => setMode(mode === 'login' ? 'signup' : 'login')}>
        {mode === 'login' ? 'New here? Create a workspace' : 'Have an account? Sign in'}
      </button>
    </main>
  );
}

function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const load = () => api<Me>('GET', '/api/v1/me').then(setMe, () => setMe(null));
  useEffect(() => void load(), []);
  if (me === undefined) return <p className="p-8 text-slate-500">Loading…</p>;
  if (me === null) return <SignIn onDone={load} />;
  return (
    <main className="p-8">
      <h1 className="text-2xl font-semibold">{me.workspace?.name ?? 'Tandem'}</h1>
      <p className="text-slate-600">Signed in as {me.user?.email}</p>
    </main>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
