import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { lazy, useState } from 'react';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router-dom';
import { Layout } from './components/Layout';
import { SessionProvider, useSession } from './hooks/session';
import { ExperimentsPage } from './pages/ExperimentsPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { SignInPage } from './pages/SignInPage';

// Charts (recharts) and the power calculator (@strata/stats) load with the pages that use them,
// so sign-in and the list come up fast.
const ExperimentDetailPage = lazy(() => import('./pages/ExperimentDetailPage').then((m) => ({ default: m.ExperimentDetailPage })));
const ExperimentFormPage = lazy(() => import('./pages/ExperimentFormPage').then((m) => ({ default: m.ExperimentFormPage })));
const LayersPage = lazy(() => import('./pages/LayersPage').then((m) => ({ default: m.LayersPage })));
const MetricsPage = lazy(() => import('./pages/MetricsPage').then((m) => ({ default: m.MetricsPage })));
const ApiKeysPage = lazy(() => import('./pages/ApiKeysPage').then((m) => ({ default: m.ApiKeysPage })));
const AuditPage = lazy(() => import('./pages/AuditPage').then((m) => ({ default: m.AuditPage })));

export function AppRoutes() {
  const { key } = useSession();
  if (!key) return <SignInPage />;
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<Navigate to="/experiments" replace />} />
        <Route path="experiments" element={<ExperimentsPage />} />
        <Route path="experiments/new" element={<ExperimentFormPage />} />
        <Route path="experiments/:key" element={<ExperimentDetailPage />} />
        <Route path="experiments/:key/edit" element={<ExperimentFormPage />} />
        <Route path="layers" element={<LayersPage />} />
        <Route path="layers/:key" element={<LayersPage />} />
        <Route path="metrics" element={<MetricsPage />} />
        <Route path="api-keys" element={<ApiKeysPage />} />
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
