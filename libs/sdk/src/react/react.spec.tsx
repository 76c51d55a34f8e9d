// @vitest-environment jsdom
import { createRoot, type Root } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileSnapshot, evaluateExperiment } from '@strata/bucketing';
import { experiment, layer, snapshot } from '@strata/test-support';
import { ApiStub, until } from '../../test/api-stub';
import { createClient, type StrataClient } from '../index';
import { StrataProvider, useVariant } from './index';

const SNAPSHOT = snapshot([layer('L')], [experiment('exp', 'L')]);
const expected = (unit: string): string => evaluateExperiment(compileSnapshot(SNAPSHOT), 'exp', unit)!.variant;

function Banner({ unitId }: { unitId?: string }) {
  const variant = useVariant('exp', unitId);
  return <span>{variant ?? 'default'}</span>;
}

let stub: ApiStub;
let client: StrataClient;
let root: Root | null = null;
let container: HTMLElement;

beforeEach(async () => {
  stub = new ApiStub(structuredClone(SNAPSHOT));
  await stub.start();
  client = createClient({ apiUrl: stub.url, sdkKey: 'sdk-test-key', flushIntervalMs: 60_000, pollIntervalMs: 30 });
  container = document.createElement('div');
  document.body.appendChild(container);
});
afterEach(async () => {
  root?.unmount();
  root = null;
  await client.close(200);
  await stub.stop();
});

describe('useVariant', () => {
  it('renders the default until the configuration arrives, then the assigned variant', async () => {
    root = createRoot(container);
    // Rendered outside act(): these tests wait for real network round trips instead.
    root.render(
      <StrataProvider client={client} unitId="u1">
        <Banner />
      </StrataProvider>,
    );
    await until(() => container.textContent !== '');
    expect(['default', expected('u1')]).toContain(container.textContent);
    await client.ready();
    await until(() => container.textContent === expected('u1'));
  });

  it('re-renders when the snapshot changes', async () => {
    await client.ready();
    root = createRoot(container);
    root.render(
      <StrataProvider client={client}>
        <Banner unitId="u2" />
      </StrataProvider>,
    );
    await until(() => container.textContent === expected('u2'));
    stub.snapshot = { ...SNAPSHOT, version: 'v2', experiments: [experiment('exp', 'L', { variants: [{ key: 'solo', weight: 1 }] })] };
    await until(() => container.textContent === 'solo', 3000);
  });

  it('logs one exposure per unit after rendering, however often it re-renders', async () => {
    await client.ready();
    root = createRoot(container);
    for (let i = 0; i < 5; i++) {
      root.render(
        <StrataProvider client={client} attributes={{ n: i }}>
          <Banner unitId="u3" />
        </StrataProvider>,
      );
      await until(() => container.textContent === expected('u3'));
      await new Promise((r) => setTimeout(r, 10));
    }
    await client.flush();
    const exposures = stub
      .eventBatches()
      .flat()
      .filter((e) => e.type === 'exposure');
    expect(exposures.map((e) => [e.unitId, e.variant])).toEqual([['u3', expected('u3')]]);
  });

  it('renders the default outside a provider or without a unit, and on the server before ready', () => {
    expect(renderToString(<Banner unitId="u1" />)).toBe('<span>default</span>');
    expect(
      renderToString(
        <StrataProvider client={client}>
          <Banner />
        </StrataProvider>,
      ),
    ).toBe('<span>default</span>');
  });
});
