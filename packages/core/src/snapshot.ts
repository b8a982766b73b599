/**
 * Value exports' snapshots: frozen once when their version loads, and shared by every handle of
 * the version, unless they hold something freezing cannot protect (a Map's or Set's contents, a
 * Date, bytes, a URL's or Headers' setters and methods): such a snapshot is copied for each handle,
 * under the table of values a call follows, so what one reader changes no other sees.
 */
import { cloneValue } from '@glean/worker/values';

/** Root snapshots that hold a Map, a Set, a Date or bytes somewhere. */
const mutable = new WeakSet<object>();

/**
 * Freezes `value` and everything in it that can be frozen, and notes whether anything in it stays
 * mutable. Iterative: a snapshot may be nested as deep as the host could read it, deeper than
 * recursion goes.
 */
export function freezeSnapshot(value: unknown): void {
  let unfreezable = false;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object' || Object.isFrozen(node)) continue;
    if (node instanceof Map || node instanceof Set || node instanceof Date || keepsStateInside(node))
      unfreezable = true;
    // Typed arrays and buffers cannot be frozen; maps and sets stay mutable through their methods.
    if (ArrayBuffer.isView(node) || node instanceof ArrayBuffer) {
      unfreezable = true;
      continue;
    }
    Object.freeze(node);
    for (const key of Reflect.ownKeys(node)) stack.push((node as Record<PropertyKey, unknown>)[key]);
    if (node instanceof Map) for (const [k, v] of node) stack.push(k, v);
    if (node instanceof Set) for (const v of node) stack.push(v);
  }
  if (unfreezable && value !== null && typeof value === 'object') mutable.add(value);
}

/**
 * What a handle reads for the frozen `snapshot`: the snapshot itself, or, when freezing could not
 * protect all of it, a frozen copy of its own (made once per snapshot, kept in `copies`).
 */
export function snapshotForHandle(snapshot: unknown, copies: WeakMap<object, unknown>): unknown {
  if (snapshot === null || typeof snapshot !== 'object' || !mutable.has(snapshot)) return snapshot;
  let copy = copies.get(snapshot);
  if (copy === undefined) {
    copy = cloneValue(snapshot);
    freezeSnapshot(copy);
    copies.set(snapshot, copy);
  }
  return copy;
}

/** A URL, URLSearchParams or Headers: their state is not in properties, so freezing leaves their setters and methods working. */
function keepsStateInside(node: object): boolean {
  // Headers by its tag: looking up the global would load undici into the host for nothing.
  return (
    node instanceof URL ||
    node instanceof URLSearchParams ||
    Object.prototype.toString.call(node) === '[object Headers]'
  );
}
