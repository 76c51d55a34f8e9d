import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router-dom';
import { vi } from 'vitest';
import { SESSION_KEY, SessionProvider } from './hooks/session';

export interface MockRoute {
  method?: string;
  /** Matched against the path + query, e.g. `/v1/layers?limit=1`; a RegExp or a prefix. */
  url: string | RegExp;
  status?: number;
  body?: unknown;
}

export interface FetchCall {
  method: string;
  url: string;
  body: unknown;
  headers: Record<string, string>;
}

/** Replaces global fetch with canned answers; returns the calls it saw. */
export function mockFetch(routes: MockRoute[]): FetchCall[] {
  const calls: FetchCall[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string, init: RequestInit = {}) => {
      const method = (init.method ?? 'GET').toUpperCase();
      const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
      calls.push({ method, url: input, body, headers: (init.headers ?? {}) as Record<string, string> });
      const route = routes.find(
        (r) => (r.method ?? 'GET').toUpperCase() === method && (typeof r.url === 'string' ? input.startsWith(r.url) : r.url.test(input)),
      );
      if (!route)
        return new Response(
          JSON.stringify({ error: { code: 'route_not_found', message: `no mock for ${method} ${input}`, details: [] } }),
          { status: 404 },
        );
      return new Response(route.body === undefined ? null : JSON.stringify(route.body), {
        status: route.status ?? 200,
        headers: { 'content-type': 'application/json' },
      });
    }),
  );
  return calls;
}

export function page<T>(items: T[]) {
  return { items, total: items.length, limit: 50, offset: 0 };
}

/** The results time series of `experiment` with no points (for results pages that are not about the charts). */
export function noTimeseries(experiment = 'checkout'): MockRoute {
  return { url: `/v1/experiments/${experiment}/results/timeseries`, body: { experiment, control: 'control', metrics: [], points: [] } };
}

/** Shows the router's current path + query (data-testid "where"), to check what a page keeps in the URL. */
export function LocationProbe() {
  const l = useLocation();
  return <output data-testid="where">{l.pathname + l.search}</output>;
}

/** Renders a page signed in (unless `signedIn: false`) with a fresh query client and router. */
export function renderPage(
  ui: ReactElement,
  { path = '/', route = '/', signedIn = true }: { path?: string; route?: string; signedIn?: boolean } = {},
) {
  if (signedIn) sessionStorage.setItem(SESSION_KEY, 'sk_admin_test');
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <SessionProvider>
        <MemoryRouter initialEntries={[route]}>
          <Routes>
            <Route path={path} element={ui} />
            <Route path="*" element={<div>elsewhere</div>} />
          </Routes>
        </MemoryRouter>
      </SessionProvider>
    </QueryClientProvider>,
  );
}
