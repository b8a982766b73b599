/**
 * A plugin's cleanup in its worker: the functions modules registered with {@link onDispose}, run by
 * the serve task after the plugin file's own `dispose` export, last registered first. One registry
 * per thread: the runtime's own module instance, which glean's module hooks give every
 * `import '@glean/worker'` of the plugin's (see module-hooks.ts), whatever its node_modules hold.
 */

/** A cleanup function: may be async; what it throws or rejects with is reported as `GLEAN_DISPOSE_FAILED`. */
export type DisposeFn = () => unknown;

const registered: DisposeFn[] = [];
/** Set by the serve task: this module instance is the runtime of a glean worker thread. */
let serving = false;

/**
 * Registers `fn` to run when this worker's plugin version ends (retired, `glean.close()`, or the
 * worker replaced while still alive): after the plugin file's `dispose` export, last registered
 * first, each awaited, all within the plugin's `disposeTimeoutMs` (default 5000). A throw or a
 * rejection is reported as a `GLEAN_DISPOSE_FAILED` `error` event; the other functions still run.
 * Throws a `TypeError` when `fn` is not a function, and an `Error` outside a glean worker (in the
 * main thread, or from a bundled copy of `@glean/worker` that is not the worker's runtime).
 */
export function onDispose(fn: DisposeFn): void {
  if (typeof fn !== 'function')
    throw new TypeError(`onDispose() expects a function, received ${fn === null ? 'null' : typeof fn}`);
  if (!serving)
    throw new Error(
      'onDispose() from @glean/worker registers cleanup for a plugin in a glean worker thread, and this is not one: ' +
        'it was called in the main thread, or from a copy of @glean/worker bundled into the plugin. ' +
        "Import '@glean/worker' unbundled in the plugin (glean gives it the worker's runtime), or export `dispose` from the plugin file instead",
    );
  registered.push(fn);
}

/** The serve task says this module instance is its runtime: {@link onDispose} may register from now on. */
export function startDisposeRegistry(): void {
  serving = true;
}

/** Takes the latest registered function out of the registry: the next to run. */
export function takeLatestDispose(): DisposeFn | undefined {
  return registered.pop();
}
