import { OpenFeature } from '@openfeature/web-sdk';
import { StrataWebProvider } from '@strata/sdk/openfeature/web';

export async function main(apiUrl = 'http://localhost:3000', sdkKey = 'pk_client_…') {
  // A client key (sdk-client); mode 'local' evaluates the configuration in the page, 'remote' asks the API per user.
  await OpenFeature.setProviderAndWait(new StrataWebProvider({ apiUrl, sdkKey, mode: 'remote' }), {
    targetingKey: 'user-42',
    country: 'DE',
  });
  const flags = OpenFeature.getClient();
  const colour = flags.getStringValue('button-colour', 'grey'); // synchronous, for the current context
  await OpenFeature.setContext({ targetingKey: 'user-43', country: 'US' }); // the provider loads the new user first
  const other = flags.getStringDetails('button-colour', 'grey');
  console.log(`user-42: ${colour}, user-43: ${other.value} (${other.reason})`);
  await OpenFeature.close();
  return { colour, other };
}
