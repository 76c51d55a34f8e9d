import { OpenFeature } from '@openfeature/server-sdk';
import { StrataServerProvider } from '@strata/sdk/openfeature/server';

export async function main(apiUrl = 'http://localhost:3000', sdkKey = process.env.STRATA_SDK_KEY ?? '') {
  // Flag key = experiment key; targetingKey = unit id; other context fields are targeting attributes.
  await OpenFeature.setProviderAndWait(new StrataServerProvider({ apiUrl, sdkKey }));
  const flags = OpenFeature.getClient();
  const context = { targetingKey: 'user-42', country: 'DE' };
  const colour = await flags.getStringDetails('button-colour', 'grey', context); // { value, variant, reason: 'SPLIT' | 'DEFAULT' | … }
  const limits = await flags.getObjectValue('rate-limits', { perMinute: 30 }, context);
  flags.track('purchase', context, { value: 42.5 }); // a Strata metric event
  console.log(`colour=${colour.value} (${colour.reason}, ${colour.variant ?? 'no variant'}) limits=${JSON.stringify(limits)}`);
  await OpenFeature.close(); // flushes exposures (logged by the provider's hook) and events
  return { colour, limits };
}
