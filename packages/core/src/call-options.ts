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
  /**
   * The routing key of an id with a canary: the call goes to the canary when the key's hash, salted
   * with the id and the canary's version, falls below the canary's weight, so a key always gets the
   * same version at a given weight, on every replica (see the README's "Gradual rollout"). A user id, a
   * session, a tenant. Default: none; each call then goes to the canary with its weight as the chance.
   */
  readonly key?: string | undefined;
  /**
   * Runs the call on the id's version whose config `version` is this text, the stable's or the
   * canary's, whatever the key and weight (for tests and staff traffic). A version the id does not
   * run now rejects `GLEAN_NOT_CONFIGURED`. Default: none, the call is routed by `key`.
   */
  readonly version?: string | undefined;
}
