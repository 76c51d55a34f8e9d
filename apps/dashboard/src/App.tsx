import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useState } from 'react';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router-dom';
import { Layout } from './components/Layout';
import { SessionProvider, useSession } from './hooks/session';
import { ApiKeysPage } from './pages/ApiKeysPage';
import { AuditPage } from './pages/AuditPage';
import { ExperimentDetailPage } from './pages/ExperimentDetailPage';
import { ExperimentFormPage } from './pages/ExperimentFormPage';
import { ExperimentsPage } from './pages/ExperimentsPage';
import { LayersPage } from './pages/LayersPage';
import { MetricsPage } from './pages/MetricsPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { SignInPage } from './pages/SignInPage';

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
