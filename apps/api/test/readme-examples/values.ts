import { createClient } from '@strata/sdk';

export async function main(apiUrl = 'http://localhost:3000', sdkKey = process.env.STRATA_SDK_KEY ?? '') {
  const strata = createClient({ apiUrl, sdkKey });
  await strata.ready();
  const user = { id: 'user-42', country: 'DE' };
  // The variant's value; the experiment's default value when the user is not in it; the fallback otherwise.
  const colour = strata.getStringValue('button-colour', user.id, 'grey', { country: user.country });
  const limits = strata.getJsonValue('rate-limits', user.id, { perMinute: 30 });
  console.log(`colour=${colour} limits=${JSON.stringify(limits)}`);
  await strata.close();
  return { colour, limits };
}
