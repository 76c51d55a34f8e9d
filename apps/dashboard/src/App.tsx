import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { lazy, Suspense, useState, type ReactNode } from 'react';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router-dom';
import { Layout } from './components/Layout';
import { Loading } from './components/States';
import { SessionProvider, useSession } from './hooks/session';
import { ApiKeysPage } from './pages/ApiKeysPage';
import { AuditPage } from './pages/AuditPage';
import { ExperimentsPage } from './pages/ExperimentsPage';
import { HoldoutsPage } from './pages/HoldoutsPage';
import { LayersPage } from './pages/LayersPage';
import { MetricsPage } from './pages/MetricsPage';
import { NotAllowedPage, NotFoundPage } from './pages/NotFoundPage';
import { SignInPage } from './pages/SignInPage';
import { UsersPage } from './pages/UsersPage';

// The results page carries the charts (recharts) and the form the sample-size calculator
// (libs/stats): each is loaded when first opened, so signing in and the lists don't wait for them.
// `.js`: the repo-wide type check resolves like node16; Vite and Vitest map it to the .tsx file.
const ExperimentDetailPage = lazy(() => import('./pages/ExperimentDetailPage.js').then((m) => ({ default: m.ExperimentDetailPage })));
const HoldoutDetailPage = lazy(() => import('./pages/HoldoutDetailPage.js').then((m) => ({ default: m.HoldoutDetailPage })));
const ExperimentFormPage = lazy(() => import('./pages/ExperimentFormPage.js').then((m) => ({ default: m.ExperimentFormPage })));

/** A page loaded on first use, with the usual loading state meanwhile. */
function Deferred({ children }: { children: ReactNode }) {
  return <Suspense fallback={<Loading />}>{children}</Suspense>;
}

/** A page the signed-in role may not use: say so rather than show actions the server would refuse. */
function Needs({ allowed, children }: { allowed: boolean; children: ReactNode }) {
  if (allowed) return <>{children}</>;
  return <NotAllowedPage />;
}

export function AppRoutes() {
  const { status, can } = useSession();
  if (status === 'checking') return <Loading label="Checking your session…" />;
  if (status === 'signed-out') return <SignInPage />;
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<Navigate to="/experiments" replace />} />
        <Route path="experiments" element={<ExperimentsPage />} />
        <Route
          path="experiments/new"
          element={
            <Needs allowed={can.write}>
              <Deferred>
                <ExperimentFormPage />
              </Deferred>
            </Needs>
          }
        />
        <Route
          path="experiments/:key"
          element={
            <Deferred>
              <ExperimentDetailPage />
            </Deferred>
          }
        />
        <Route
          path="experiments/:key/edit"
          element={
            <Needs allowed={can.write}>
              <Deferred>
                <ExperimentFormPage />
              </Deferred>
            </Needs>
          }
        />
        <Route path="layers" element={<LayersPage />} />
        <Route path="layers/:key" element={<LayersPage />} />
        <Route path="metrics" element={<MetricsPage />} />
        <Route path="holdouts" element={<HoldoutsPage />} />
        <Route
          path="holdouts/:key"
          element={
            <Deferred>
              <HoldoutDetailPage />
            </Deferred>
          }
        />
        <Route
          path="api-keys"
          element={
            <Needs allowed={can.admin}>
              <ApiKeysPage />
            </Needs>
          }
        />
        <Route
          path="users"
          element={
            <Needs allowed={can.admin}>
              <UsersPage />
            </Needs>
          }
        />
        <Route path="audit" element={<AuditPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}

export function App() {
  const [client] = useState(() => new QueryClient({ defaultOptions: { queries: { refetchOnWindowFocus: false } } }));
  return (
    <QueryClientProvider client={client}>
      <SessionProvider>
        <BrowserRouter>
          <AppRoutes />
        </BrowserRouter>
      </SessionProvider>
    </QueryClientProvider>
  );
}
