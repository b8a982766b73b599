/** Options of one call, given with {@link withOptions}. */
export interface CallOptions {
  /**
   * Aborts the call: it rejects `GLEAN_ABORTED` with the signal's reason as `cause`, queued or running.
   * The worker may still finish running it; one whose event loop does not answer a ping within 1 s is
   * replaced, as after a timeout, without counting as a crash. An already aborted signal rejects
   * before anything is sent. Default: none.
   */
  readonly signal?: AbortSignal | undefined;
  /** This call's timeout in ms, instead of the plugin's `timeoutMs`. Default: the plugin's. */
  readonly timeoutMs?: number | undefined;
}
