import { useEffect, useState, type ReactNode } from 'react';
import { Link, Outlet, useNavigate, useRouterState } from '@tanstack/react-router';
import { useQueryClient } from '@tanstack/react-query';
import { endpoints } from '@tandem/contracts';
import { call } from './api';
import { isPartnerOnly, useMe } from './lib/session';
import { useLiveUpdates } from './lib/live';
import { Logo } from './pages/auth';
import { Skeleton, cx } from './ui/kit';

export interface NavItem {
  to: string;
  label: string;
  icon: string;
}

/** The brand console's sections. A section appears here only once its API exists. */
export const consoleNav: NavItem[] = [
  { to: '/', label: 'Overview', icon: '◎' },
  { to: '/programs', label: 'Programs', icon: '▤' },
  { to: '/partners', label: 'Partners', icon: '◍' },
  { to: '/partnerships', label: 'Partnerships', icon: '⇆' },
  { to: '/commissions', label: 'Commissions', icon: '¤' },
  { to: '/payouts', label: 'Payouts', icon: '⇄' },
  { to: '/disputes', label: 'Disputes', icon: '⚑' },
  { to: '/settings', label: 'Settings', icon: '⚙' },
];

function NavLinks({ items, onNavigate }: { items: NavItem[]; onNavigate?: () => void }) {
  return (
    <ul className="space-y-0.5">
      {items.map((item) => (
        <li key={item.to}>
          <Link
            to={item.to}
            onClick={onNavigate}
            activeOptions={{ exact: item.to === '/' || item.to === '/portal' }}
            className="flex items-center gap-3 rounded-lg px-3 py-2 text-sm font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-slate-400 dark:hover:bg-slate-800 dark:hover:text-white"
            activeProps={{ className: 'bg-indigo-50 !text-indigo-700 dark:bg-indigo-950 dark:!text-indigo-300', 'aria-current': 'page' }}
          >
            <span aria-hidden className="w-4 text-center">
              {item.icon}
            </span>
            {item.label}
          </Link>
        </li>
      ))}
    </ul>
  );
}

/** Sidebar on wide screens, a drawer behind a menu button on a phone. */
export function AppFrame({ nav, title, footer, children }: { nav: NavItem[]; title: ReactNode; footer: ReactNode; children: ReactNode }) {
  const [open, setOpen] = useState(false);
  const path = useRouterState({ select: (s) => s.location.pathname });
  useEffect(() => setOpen(false), [path]);
  const sidebar = (
    <div className="flex h-full flex-col gap-6 px-3 py-5">
      <div className="flex items-center gap-2 px-2 text-base font-semibold text-slate-900 dark:text-white">
        <Logo />
        <span className="truncate">{title}</span>
      </div>
      <nav aria-label="Main" className="flex-1">
        <NavLinks items={nav} onNavigate={() => setOpen(false)} />
      </nav>
      <div className="border-t border-slate-200 px-2 pt-4 text-sm dark:border-slate-800">{footer}</div>
    </div>
  );
  return (
    <div className="min-h-screen bg-slate-50 text-slate-900 dark:bg-slate-950 dark:text-slate-100">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2"
      >
        Skip to content
      </a>
      <aside className="fixed inset-y-0 left-0 hidden w-60 border-r border-slate-200 bg-white lg:block dark:border-slate-800 dark:bg-slate-900">
        {sidebar}
      </aside>
      <div className="sticky top-0 z-30 flex items-center justify-between border-b border-slate-200 bg-white/90 px-4 py-3 backdrop-blur lg:hidden dark:border-slate-800 dark:bg-slate-900/90">
        <div className="flex items-center gap-2 font-semibold">
          <Logo /> {title}
        </div>
        <button
          className="rounded-lg p-2 ring-1 ring-slate-300 dark:ring-slate-700"
          aria-expanded={open}
          aria-controls="mobile-nav"
          onClick={() => setOpen(!open)}
        >
          <span className="sr-only">Menu</span>☰
        </button>
      </div>
      {open && (
        <div className="fixed inset-0 z-40 lg:hidden" id="mobile-nav">
          <div className="absolute inset-0 bg-slate-900/40" onClick={() => setOpen(false)} />
          <aside className="absolute inset-y-0 left-0 w-64 bg-white shadow-xl dark:bg-slate-900">{sidebar}</aside>
        </div>
      )}
      <main id="main" className="px-4 py-6 sm:px-8 lg:ml-60 lg:py-10">
        <div className="mx-auto max-w-6xl">{children}</div>
      </main>
    </div>
  );
}

/** The brand console: signed-in users only, with real-time updates of the workspace. */
export function ConsoleLayout() {
  const me = useMe();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  useLiveUpdates(Boolean(me.data));
  useEffect(() => {
    if (me.data === null && !me.isFetching) void navigate({ to: '/login' });
    // A partner's account has no brand workspace: its home is the partner portal.
    if (isPartnerOnly(me.error)) void navigate({ to: '/portal' });
  }, [me.data, me.error, me.isFetching, navigate]);
  if (!me.data) {
    return (
      <div className="mx-auto max-w-3xl p-10">
        <Skeleton rows={5} />
      </div>
    );
  }
  async function signOut() {
    await call(endpoints.logout);
    queryClient.clear();
    await navigate({ to: '/login' });
  }
  return (
    <AppFrame
      nav={consoleNav}
      title={me.data.workspace?.name ?? 'Tandem'}
      footer={
        <div className="space-y-2">
          <p className="truncate text-slate-500" title={me.data.user?.email}>
            {me.data.user?.email}
          </p>
          <Link to="/portal" className="block text-slate-600 hover:text-indigo-600 dark:text-slate-400">
            Partner portal
          </Link>
          <button onClick={signOut} className={cx('font-medium text-slate-700 hover:text-indigo-600 dark:text-slate-300')}>
            Sign out
          </button>
        </div>
      }
    >
      <Outlet />
    </AppFrame>
  );
}
