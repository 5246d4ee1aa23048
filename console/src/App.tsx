import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App as AntdApp, ConfigProvider, Result, Spin } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import { lazy, useState, type ReactNode } from 'react';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router-dom';
import { ApiContext, type ConsoleApi } from './api.js';
import { cspNonce } from './csp.js';
import { LocaleProvider, useLocale, useT, type Locale } from './i18n/index.js';
import { navFor } from './layout/nav.js';
import { Shell } from './layout/Shell.js';
import { SignInPage } from './pages/sign-in/index.js';
import { hasScope, SessionProvider, useOfficial, useSession } from './session.js';

// Route-level code splitting: the first load is the sign-in page and the shell; each page (the case view with
// ECharts above all) is its own chunk, loaded when first opened.
const CasePage = lazy(() => import('./pages/case/index.js'));
const CasesPage = lazy(() => import('./pages/cases/index.js').then((m) => ({ default: m.CasesPage })));
const AdminPage = lazy(() => import('./pages/admin/index.js').then((m) => ({ default: m.AdminPage })));
const CarriersPage = lazy(() =>
  import('./pages/carriers/index.js').then((m) => ({ default: m.CarriersPage })),
);
const AuditPage = lazy(() => import('./pages/audit/index.js').then((m) => ({ default: m.AuditPage })));
const ApprovalsPage = lazy(() =>
  import('./pages/approvals/index.js').then((m) => ({ default: m.ApprovalsPage })),
);

/** A 4xx answer: asking again changes nothing. */
function refused(err: unknown): boolean {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/** Server state: a failed read is retried once unless the API refused it (4xx answers do not change on retry). */
/**
 * Ant Design's defaults darkened where text on them falls short of WCAG AA contrast (4.5:1): the primary and error
 * colours under white text, and secondary text on white.
 */
const THEME = {
  token: {
    colorPrimary: '#0958d9',
    colorInfo: '#0958d9',
    colorLink: '#0958d9',
    colorError: '#cf1322',
    colorTextTertiary: 'rgba(0, 0, 0, 0.62)',
    colorTextDescription: 'rgba(0, 0, 0, 0.62)',
    borderRadius: 4,
  },
};

export function createQueryClient(): QueryClient {
  return new QueryClient({
    queryCache: new QueryCache(),
    mutationCache: new MutationCache(),
    defaultOptions: {
      queries: {
        retry: (count, err) => count < 1 && !refused(err),
        refetchOnWindowFocus: false,
        staleTime: 10_000,
      },
      mutations: { retry: false },
    },
  });
}

/** Everything a page needs around it: the API, server state, language, AntD's theme and CSP nonce, the session. */
export function AppProviders({
  api,
  queryClient,
  locale,
  children,
}: {
  api: ConsoleApi;
  queryClient?: QueryClient;
  locale?: Locale;
  children: ReactNode;
}) {
  const [client] = useState(() => queryClient ?? createQueryClient());
  const [nonce] = useState(() => cspNonce());
  return (
    <ApiContext.Provider value={api}>
      <QueryClientProvider client={client}>
        <LocaleProvider {...(locale ? { initial: locale } : {})}>
          <Themed nonce={nonce}>
            <SessionProvider>{children}</SessionProvider>
          </Themed>
        </LocaleProvider>
      </QueryClientProvider>
    </ApiContext.Provider>
  );
}

function Themed({ nonce, children }: { nonce: string | undefined; children: ReactNode }) {
  const { locale } = useLocale();
  return (
    <ConfigProvider
      locale={locale === 'en' ? enUS : zhCN}
      {...(nonce ? { csp: { nonce } } : {})}
      theme={THEME}
      // "登录", not "登 录": the space breaks the word for screen readers and label-in-name matching.
      button={{ autoInsertSpace: false }}
    >
      <AntdApp>{children}</AntdApp>
    </ConfigProvider>
  );
}

/** Sign-in until there is a session, then the shell and its pages. */
export function ConsoleRoutes() {
  const { state } = useSession();
  const t = useT();
  if (state.status === 'loading')
    return (
      <div className="rt-centre">
        <Spin size="large" tip={t('common.loading')}>
          <div style={{ padding: 48 }} />
        </Spin>
      </div>
    );
  if (state.status === 'signedOut') return <SignInPage />;
  return (
    <Routes>
      <Route element={<Shell />}>
        <Route index element={<Home />} />
        <Route
          path="cases"
          element={
            <Allowed scopes={['trace:read', 'case:write']}>
              <CasesPage />
            </Allowed>
          }
        />
        <Route
          path="cases/:id"
          element={
            <Allowed scopes={['trace:read', 'case:write']}>
              <CasePage />
            </Allowed>
          }
        />
        <Route
          path="approvals"
          element={
            <Allowed scopes={['reveal:approve']}>
              <ApprovalsPage />
            </Allowed>
          }
        />
        <Route
          path="audit"
          element={
            <Allowed scopes={['audit:read']}>
              <AuditPage />
            </Allowed>
          }
        />
        <Route
          path="operators"
          element={
            <Allowed scopes={['carriers:write', 'admin']}>
              <CarriersPage />
            </Allowed>
          }
        />
        <Route
          path="admin"
          element={
            <Allowed scopes={['officials:admin', 'admin']}>
              <AdminPage />
            </Allowed>
          }
        />
        <Route path="*" element={<Result status="404" title={t('common.notFound')} />} />
      </Route>
    </Routes>
  );
}

/** The first page the official may use. */
function Home() {
  const official = useOfficial();
  const t = useT();
  const first = navFor(official)[0];
  return first ? (
    <Navigate to={first.path} replace />
  ) : (
    <Result status="403" title={t('common.noAccess')} subTitle={t('common.noAccessHint')} />
  );
}

function Allowed({ scopes, children }: { scopes: Parameters<typeof hasScope>[1][]; children: ReactNode }) {
  const official = useOfficial();
  const t = useT();
  return hasScope(official, ...scopes) ? (
    <>{children}</>
  ) : (
    <Result status="403" title={t('common.noAccess')} subTitle={t('common.noAccessHint')} />
  );
}

/** The console as the browser runs it, under /console/. */
export function App({ api }: { api: ConsoleApi }) {
  return (
    <AppProviders api={api}>
      <BrowserRouter basename="/console">
        <ConsoleRoutes />
      </BrowserRouter>
    </AppProviders>
  );
}
