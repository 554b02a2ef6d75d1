import { createRootRoute, createRoute, createRouter, Link, Outlet } from '@tanstack/react-router';
import { ConsoleLayout } from './shell';
import { ForgotPasswordPage, LoginPage, ResetPasswordPage, SignupPage } from './pages/auth';
import { OverviewPage } from './pages/overview';
import { SettingsPage } from './pages/settings';
import { ProgramsPage } from './pages/programs';
import { ProgramPage } from './pages/program';
import { PartnersPage } from './pages/partners';
import { ApplyPage } from './pages/apply';
import { DisputesPage } from './pages/disputes';
import { CommissionsPage } from './pages/commissions';
import { PayoutsPage } from './pages/payouts';
import { PartnershipsPage } from './pages/partnerships';
import { PortalDisputesPage } from './pages/portal-disputes';
import { SharedDashboardPage } from './pages/share';
import { PortalEarningsPage, PortalStatementsPage } from './pages/portal-earnings';
import { PortalHomePage, PortalLayout, PortalProgramPage, PortalSignupPage, PortalVerifyEmailPage } from './pages/portal';

function NotFound() {
  return (
    <div className="mx-auto max-w-md p-10 text-center">
      <h1 className="text-xl font-semibold">This page does not exist</h1>
      <p className="mt-2 text-sm text-slate-500">The link may be old or mistyped.</p>
      <Link to="/" className="mt-4 inline-block font-medium text-indigo-600 hover:underline">
        Go to the overview
      </Link>
    </div>
  );
}

const rootRoute = createRootRoute({ component: Outlet, notFoundComponent: NotFound });
const loginRoute = createRoute({ getParentRoute: () => rootRoute, path: '/login', component: LoginPage });
const signupRoute = createRoute({ getParentRoute: () => rootRoute, path: '/signup', component: SignupPage });
const forgotPasswordRoute = createRoute({ getParentRoute: () => rootRoute, path: '/forgot-password', component: ForgotPasswordPage });
/** The link mailed by a password reset request (`?token=`). */
const resetPasswordRoute = createRoute({ getParentRoute: () => rootRoute, path: '/reset-password', component: ResetPasswordPage });

/** The brand console: everything under it needs a signed-in member of the workspace. */
const consoleRoute = createRoute({ getParentRoute: () => rootRoute, id: 'console', component: ConsoleLayout });
const overviewRoute = createRoute({ getParentRoute: () => consoleRoute, path: '/', component: OverviewPage });
const programsRoute = createRoute({ getParentRoute: () => consoleRoute, path: '/programs', component: ProgramsPage });
const programRoute = createRoute({ getParentRoute: () => consoleRoute, path: '/programs/$programId', component: ProgramPage });
const partnersRoute = createRoute({ getParentRoute: () => consoleRoute, path: '/partners', component: PartnersPage });
const applyRoute = createRoute({ getParentRoute: () => rootRoute, path: '/apply/$slug', component: ApplyPage });
const commissionsRoute = createRoute({ getParentRoute: () => consoleRoute, path: '/commissions', component: CommissionsPage });
const payoutsRoute = createRoute({ getParentRoute: () => consoleRoute, path: '/payouts', component: PayoutsPage });
const partnershipsRoute = createRoute({ getParentRoute: () => consoleRoute, path: '/partnerships', component: PartnershipsPage });
const disputesRoute = createRoute({ getParentRoute: () => consoleRoute, path: '/disputes', component: DisputesPage });
/** The partner portal: a partner's own account, across every brand it promotes. */
const portalShellRoute = createRoute({ getParentRoute: () => rootRoute, id: 'portal-shell', component: PortalLayout });
const portalHomeRoute = createRoute({ getParentRoute: () => portalShellRoute, path: '/portal', component: PortalHomePage });
const portalProgramRoute = createRoute({
  getParentRoute: () => portalShellRoute,
  path: '/portal/programs/$enrollmentId',
  component: PortalProgramPage,
});
const portalDisputesRoute = createRoute({
  getParentRoute: () => portalShellRoute,
  path: '/portal/disputes',
  component: PortalDisputesPage,
});
const portalEarningsRoute = createRoute({
  getParentRoute: () => portalShellRoute,
  path: '/portal/earnings',
  component: PortalEarningsPage,
});
const portalStatementsRoute = createRoute({
  getParentRoute: () => portalShellRoute,
  path: '/portal/statements',
  component: PortalStatementsPage,
});
/** Public: the read-only partnership dashboard behind a share link. */
const shareRoute = createRoute({ getParentRoute: () => rootRoute, path: '/share/$token', component: SharedDashboardPage });
const portalSignupRoute = createRoute({ getParentRoute: () => rootRoute, path: '/portal/signup', component: PortalSignupPage });
/** The link mailed at portal sign-up (`?token=`); outside the portal shell, which would hide it behind the program list. */
const portalVerifyEmailRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/portal/verify-email',
  component: PortalVerifyEmailPage,
});
const settingsRoute = createRoute({ getParentRoute: () => consoleRoute, path: '/settings', component: SettingsPage });

const routeTree = rootRoute.addChildren([
  loginRoute,
  signupRoute,
  forgotPasswordRoute,
  resetPasswordRoute,
  applyRoute,
  portalSignupRoute,
  portalVerifyEmailRoute,
  shareRoute,
  portalShellRoute.addChildren([portalHomeRoute, portalProgramRoute, portalEarningsRoute, portalStatementsRoute, portalDisputesRoute]),
  consoleRoute.addChildren([
    overviewRoute,
    programsRoute,
    programRoute,
    partnersRoute,
    partnershipsRoute,
    commissionsRoute,
    payoutsRoute,
    disputesRoute,
    settingsRoute,
  ]),
]);

export const router = createRouter({ routeTree, defaultPreload: 'intent' });

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}
