/**
 * An Inngest client, from `inngest` v4 or v3 (3.50 or later), as this package uses it: its
 * `realtime` API and its API base URL. Typed structurally, so a client of either major is
 * accepted; which one it is, is detected from its features at run time.
 */
export interface InngestClientLike {
  /** The client's Realtime API: `publish`, `subscribe` and `token` in v4; `publish` and `getSubscriptionToken` in v3. */
  readonly realtime: object;
  /** Where the client reaches Inngest's API. */
  readonly apiBaseUrl?: string | undefined;
}
