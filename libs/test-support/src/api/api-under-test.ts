/** What the fixtures need of a running API: the API's in-process TestApp and an ApiProcess both are one. */
export interface ApiUnderTest {
  /** An admin-key JSON request. */
  admin<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; text: string }>;
  /** SQL on the API's database. */
  query<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Resolves once the event collector's catalog shows `key` in `status` (it follows the configuration feed). */
  catalogSees(key: string, status: string, timeoutMs?: number): Promise<void>;
}
