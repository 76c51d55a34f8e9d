import { AppException } from '../errors/app.exception';

/** What a `ci` key gets anywhere but the routes marked @CiAllowed (the fast assign route too). */
export const CI_ONLY = new AppException(
  'forbidden',
  "A ci key may only read an experiment's state and drive its rollout: GET /v1/experiments/:key, GET /v1/experiments/:key/rollout, POST /v1/experiments/:key/rollout/{advance,pause,resume,revert}.",
);

/** What a signed-in person gets on an `sdk` route (ApiKeyGuard and the fast assign route alike). */
export const SDK_ONLY = new AppException('forbidden', 'This endpoint is for SDKs and servers: send an API key ("Authorization: Bearer <key>").');
