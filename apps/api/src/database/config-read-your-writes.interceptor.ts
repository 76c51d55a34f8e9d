import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import { concatMap, Observable } from 'rxjs';
import { ConfigChangeFeed, requestChanges, type CommittedChange } from './config-change-feed';

/** Methods that can change configuration; reads skip the bookkeeping. */
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Key types that can change no configuration (the auth matrix): ingestion and batch assignment skip the bookkeeping. */
const SDK_KEYS = new Set(['sdk-server', 'sdk-client']);

/**
 * Read-your-writes: a request that changed configuration (started an experiment, revoked a key)
 * answers only after this process applied the change, so the caller's next request to the same
 * process sees it: an assignment right after `start` is in the experiment and its exposure
 * counted. Without it the change took effect when this process's own NOTIFY came back, which
 * under load was after the caller had already sent traffic. Bounded (2 s): the feed keeps
 * retrying a failed apply and the answer does not wait for it longer.
 */
@Injectable()
export class ConfigReadYourWrites implements NestInterceptor {
  constructor(@Inject(ConfigChangeFeed) private readonly feed: ConfigChangeFeed) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    // Guards ran first, so an authenticated request carries its principal.
    const request = context.switchToHttp().getRequest<{ method?: string; principal?: { type: string } }>();
    if (!WRITES.has(request.method ?? 'GET') || SDK_KEYS.has(request.principal?.type ?? '')) return next.handle();
    const changes: CommittedChange[] = [];
    return new Observable((subscriber) =>
      requestChanges.run(changes, () =>
        next
          .handle()
          .pipe(
            concatMap(async (value: unknown) => {
              await this.feed.applyCommitted(changes);
              return value;
            }),
          )
          .subscribe(subscriber),
      ),
    );
  }
}
