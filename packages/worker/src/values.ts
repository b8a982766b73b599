/**
 * What a value becomes when it crosses between the host and a plugin's worker, in either direction: a
 * call's arguments, its result, the properties of an error, a value export. This file is the one table
 * (README "Values", docs/architecture.md): structured clone carries most values as they are; the ones it
 * would change are encoded here and rebuilt on the other side (URL, URLSearchParams, Headers, Buffer,
 * File, Error, a RegExp's lastIndex, a null-prototype object), and the ones it cannot carry faithfully
 * are refused with the place they are at (functions, symbols, class instances, properties added to a
 * Map or a Date). Nothing is changed silently; what is not part of a value (non-enumerable properties,
 * symbol keys: what JSON and structured clone leave out too) is not sent.
 *
 * {@link encodeValue} walks the value once without copying and answers `undefined` for the common case
 * (send it as it is; a primitive costs one `typeof`); only a value that holds something to encode is
 * walked a second time, into a copy with placeholders. {@link decodeValue} runs only for a message that
 * lists placeholders, and reads what a worker sent as untrusted: anything malformed throws.
 */
import { Blob, Buffer, File } from 'node:buffer';
import { MessagePort } from 'node:worker_threads';
import {
  describeThrown,
  describeValue,
  errorShell,
  fillError,
  isSerializedError,
  serializeError,
  type SerializedError,
  type Specials,
} from './protocol.js';

/** Why a value cannot cross, and where it is. */
export interface Refusal {
  /** Where, from the root the caller named: `result.items[2].when`, `args[0].onDone`. */
  readonly place: string;
  /** What is there, for people: `function onDone`, `an instance of Point`. */
  readonly what: string;
  /** Why it cannot cross, and what to send instead. */
  readonly why: string;
}

/** A value with a placeholder wherever structured clone would change what was there, and those placeholders. */
export interface Encoded {
  readonly value: unknown;
  readonly specials: Specials;
}

/** What {@link encodeValue} answers: `undefined` (send the value as it is), the encoded copy, or a refusal. */
export type Encoding = undefined | Encoded | { readonly refused: Refusal };

/** `result.items[2].when (an instance of Moment): its class would be lost…`, the refusal for an error message. */
export function describeRefusal(refusal: Refusal, verb: string): string {
  return `${refusal.place} (${refusal.what}) ${verb}: ${refusal.why}`;
}

/**
 * Checks `value` against the table and, when something in it needs encoding, makes the copy to send
 * (the value itself is never changed). `root` names the value in a refusal's place: `result`, `args`.
 * Never throws: a getter or a Proxy trap that throws is a refusal at its place.
 */
export function encodeValue(value: unknown, root: string): Encoding {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol'))
    return undefined;
  // Most values are small trees of plain objects and arrays of primitives: told apart with no state at all.
  if (isSmallPlainTree(value)) return undefined;
  // The checking walk is reused from call to call (nothing to allocate on the hot path), unless this is a nested use.
  const scan = scanning ? newWalk(false) : SCAN;
  const reused = scan === SCAN;
  if (reused) scanning = true;
  let refusal: Refusal | undefined;
  let encode = false;
  try {
    child(value, scan);
  } catch (error) {
    refusal = refusalOf(error, scan, root);
  } finally {
    encode = scan.encode;
    if (reused) resetScan();
  }
  if (refusal !== undefined) return { refused: refusal };
  if (!encode) return undefined;
  const walk = newWalk(true);
  let copy: unknown;
  try {
    copy = child(value, walk);
  } catch (error) {
    return { refused: refusalOf(error, walk, root) };
  }
  return { value: copy, specials: walk.specials };
}

/** Whether `value` can cross as the table says (as it is, or encoded): what an Error keeps of its properties. */
export function isCarried(value: unknown): boolean {
  const encoding = encodeValue(value, '');
  return encoding === undefined || !('refused' in encoding);
}

/**
 * The value an encoded message carried, rebuilt: every placeholder listed in `specials` (found by
 * identity in `value`, which is changed in place) becomes the value it stands for. Throws a TypeError
 * for anything malformed (`specials` not a list of placeholders, a placeholder with fields of the wrong
 * type, a URL that does not parse…); the caller turns that into a coded error.
 */
export function decodeValue(value: unknown, specials: unknown): unknown {
  if (!Array.isArray(specials) || specials.length === 0) throw new TypeError('the placeholders are not a list');
  const marks = new Set<object>();
  for (const placeholder of specials as unknown[]) {
    if (!isRecord(placeholder) || typeof placeholder['t'] !== 'string' || !Object.hasOwn(DECODERS, placeholder['t']))
      throw new TypeError(`a malformed placeholder: ${describeValue(placeholder)}`);
    marks.add(placeholder);
  }
  return new Decoder(marks).read(value);
}

/** A copy of `value` as the other thread would get it (what a value export's snapshot gives each handle). Throws a TypeError for a refused value. */
export function cloneValue(value: unknown): unknown {
  const encoding = encodeValue(value, 'value');
  if (encoding === undefined) return structuredClone(value);
  if ('refused' in encoding) throw new TypeError(describeRefusal(encoding.refused, 'cannot be copied'));
  const copy = structuredClone({ value: encoding.value, specials: encoding.specials });
  return decodeValue(copy.value, copy.specials);
}

// ---- encoding -------------------------------------------------------------------------------------

/**
 * How many objects and arrays the quick check looks at, and how deep, before it leaves a value to the
 * full walk: past these a value may be a cycle, or share one object many times over.
 */
const PLAIN_TREE_NODES = 100_000;
const PLAIN_TREE_DEPTH = 100;
let plainTreeBudget = 0;
let plainTreeDepth = 0;

/**
 * Whether `value` is plain objects and arrays down to primitives and data structured clone carries as
 * it is (typed arrays, ArrayBuffers…), within {@link PLAIN_TREE_NODES} and {@link PLAIN_TREE_DEPTH}:
 * what most calls pass and return. It keeps no memory of what it saw, so it allocates nothing and
 * costs a prototype lookup and the keys of each object; a cycle or a shared object only spends its
 * budget. Anything else (a Date, a Map, a URL, a getter that throws) is for the full walk to judge.
 */
function isSmallPlainTree(value: unknown): boolean {
  plainTreeBudget = PLAIN_TREE_NODES;
  plainTreeDepth = PLAIN_TREE_DEPTH;
  try {
    return plainTree(value as object);
  } catch {
    return false;
  }
}

function plainTree(value: object): boolean {
  if (--plainTreeBudget < 0 || --plainTreeDepth < 0) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  const plain =
    proto === Array.prototype || proto === Object.prototype ? plainChildren(value, proto) : AS_IS.has(proto);
  plainTreeDepth++;
  return plain;
}

function plainChildren(value: object, proto: unknown): boolean {
  if (proto === Array.prototype) {
    const array = value as unknown[];
    if (array.length > DENSE_WALK_LIMIT) return false;
    for (let i = 0; i < array.length; i++) if (!plainLeaf(array[i])) return false;
    return true;
  }
  const record = value as Record<string, unknown>;
  // for-in, not Object.keys: no array per object. It would also list an enumerable key someone put on
  // Object.prototype; looking at that one too costs nothing but its check.
  for (const key in record) if (!plainLeaf(record[key])) return false;
  return true;
}

function plainLeaf(value: unknown): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case 'object':
      return plainTree(value);
    case 'function':
    case 'symbol':
      return false;
    default:
      return true;
  }
}

/** A step of the path to a refused value: a property, an index, or a Map's or a Set's member. */
type Step = string | number | { readonly label: string };

interface Walk {
  /** The second pass: build the copy, with placeholders. The first only checks. */
  readonly copy: boolean;
  /** The containers met while checking: each is looked at once, so cycles end and shared references cost once. */
  readonly visited: Set<object>;
  /** What each container met became while copying: its copy or placeholder. Keeps shared references and cycles. */
  readonly seen: Map<object, unknown>;
  readonly path: Step[];
  readonly specials: object[];
  /** Something met needs encoding: a second pass will copy. */
  encode: boolean;
}

function newWalk(copy: boolean): Walk {
  return { copy, visited: new Set(), seen: new Map(), path: [], specials: [], encode: false };
}

const SCAN = newWalk(false);
let scanning = false;

function resetScan(): void {
  SCAN.visited.clear();
  SCAN.path.length = 0;
  SCAN.encode = false;
  scanning = false;
}

/** Thrown inside a walk for a value the table refuses; the walk's path says where. */
class Refused {
  constructor(
    readonly what: string,
    readonly why: string,
  ) {}
}

const TYPED_ARRAYS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  (globalThis as { Float16Array?: unknown }).Float16Array,
].filter((type): type is Uint8ArrayConstructor => typeof type === 'function');

/** Prototypes of what structured clone carries as it is, with nothing inside to look at. */
const AS_IS = new Set<unknown>([
  ...TYPED_ARRAYS.map((type) => type.prototype),
  ArrayBuffer.prototype,
  SharedArrayBuffer.prototype,
  DataView.prototype,
  Number.prototype,
  String.prototype,
  Boolean.prototype,
  BigInt.prototype,
  Blob.prototype,
  // Carried when it is transferred (`transfer()`); structured clone refuses it otherwise, with its own words.
  MessagePort.prototype,
]);

type Placeholder = Record<string, unknown> & { readonly t: string };

/** Prototypes of what is encoded, and how. `Headers` is looked up only when met: touching it loads undici into the thread. */
const ENCODERS = new Map<unknown, (value: never) => Placeholder>([
  [URL.prototype, (url: URL) => ({ t: 'url', href: url.href })],
  [URLSearchParams.prototype, (params: URLSearchParams) => ({ t: 'params', text: params.toString() })],
  [Buffer.prototype, (buffer: Buffer) => ({ t: 'buffer', bytes: ownBytes(buffer) })],
  [
    File.prototype,
    (file: File) => ({ t: 'file', blob: file, name: file.name, type: file.type, lastModified: file.lastModified }),
  ],
]);

/**
 * A Buffer's own bytes: the view itself when it covers its whole ArrayBuffer (so a transferred one
 * still moves), else a copy of its bytes alone. A small Buffer is a view on a pooled ArrayBuffer of
 * 8 KiB shared with others, and structured clone would copy the whole pool.
 */
function ownBytes(buffer: Buffer): Uint8Array {
  return buffer.byteOffset === 0 && buffer.byteLength === buffer.buffer.byteLength
    ? new Uint8Array(buffer.buffer, 0, buffer.byteLength)
    : Uint8Array.prototype.slice.call(buffer);
}

/** Any value at a place: primitives as they are, objects visited, functions and symbols refused. */
function child(value: unknown, walk: Walk): unknown {
  if (value === null) return value;
  switch (typeof value) {
    case 'object':
      return visit(value, walk);
    case 'function':
      throw new Refused(describeValue(value), 'a function cannot be copied to another thread');
    case 'symbol':
      throw new Refused(describeValue(value), 'a symbol cannot be copied to another thread');
    default:
      return value;
  }
}

/** The value at `step`, visited there: the path grows only for what is not a primitive. */
function at(walk: Walk, step: Step, value: unknown): unknown {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol'))
    return value;
  walk.path.push(step);
  const out = child(value, walk);
  walk.path.pop();
  return out;
}

function visit(value: object, walk: Walk): unknown {
  if (walk.copy) {
    const known = walk.seen.get(value);
    if (known !== undefined) return known;
  } else if (walk.visited.has(value)) {
    return value;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype)
    return record(value, walk, walk.copy ? {} : (value as Record<string, unknown>), undefined);
  if (proto === Array.prototype) return array(value as unknown[], walk);
  if (AS_IS.has(proto)) return kept(value, walk);
  if (proto === Map.prototype) return map(value as Map<unknown, unknown>, walk);
  if (proto === Set.prototype) return set(value as Set<unknown>, walk);
  if (proto === Date.prototype) {
    noProperties(value, 'a Date', walk);
    return kept(value, walk);
  }
  if (proto === RegExp.prototype) {
    noProperties(value, 'a RegExp', walk);
    const { source, flags, lastIndex } = value as RegExp;
    return lastIndex === 0
      ? kept(value, walk)
      : encoded(value, walk, () => ({ t: 'regexp', source, flags, lastIndex }));
  }
  const encoder = ENCODERS.get(proto);
  if (encoder !== undefined) return encoded(value, walk, () => encoder(value as never));
  if (proto === null) return nullObject(value, walk);
  if (value instanceof Error) return error(value, walk);
  if (isHeaders(value)) return encoded(value, walk, () => ({ t: 'headers', entries: [...(value as Headers)] }));
  if (isNodeCloneable(value)) return kept(value, walk);
  throw new Refused(
    `an instance of ${classOf(value)}`,
    'structured clone would keep its own fields and lose its class (prototype, methods, getters, instanceof); send plain data (an object, an array, a Map) and rebuild it on the other side',
  );
}

/** Carried as it is: nothing inside to look at, so nothing to remember (structured clone keeps a shared one shared). */
function kept(value: object, _walk: Walk): object {
  return value;
}

/** Notes a container before its children are looked at, so a cycle back to it ends there. */
function remember(walk: Walk, value: object, as: unknown): void {
  if (walk.copy) walk.seen.set(value, as);
  else walk.visited.add(value);
}

/** A placeholder (the copy pass) for a value that needs encoding; the checking pass only notes that one is needed. */
function encoded(value: object, walk: Walk, make: () => Placeholder): unknown {
  walk.encode = true;
  if (!walk.copy) return value;
  const placeholder = make();
  remember(walk, value, placeholder);
  walk.specials.push(placeholder);
  return placeholder;
}

function record(value: object, walk: Walk, target: Record<string, unknown>, memo: object | undefined): unknown {
  remember(walk, value, memo ?? target);
  const source = value as Record<string, unknown>;
  // Own enumerable string keys, as structured clone and JSON take them: symbol keys are not part of the value.
  for (const key of Object.keys(source)) {
    const out = at(walk, key, source[key]);
    if (walk.copy) define(target, key, out);
  }
  return memo ?? target;
}

/** Past this length an array is walked by its keys: a sparse array's length says nothing of its size. */
const DENSE_WALK_LIMIT = 1 << 20;

function array(value: unknown[], walk: Walk): unknown {
  const length = value.length;
  const target: unknown[] = walk.copy ? new Array(length) : value;
  remember(walk, value, target);
  if (length > DENSE_WALK_LIMIT) {
    for (const key of Object.keys(value)) {
      const out = at(walk, /^\d+$/.test(key) ? Number(key) : key, (value as unknown as Record<string, unknown>)[key]);
      if (walk.copy) define(target as unknown as Record<string, unknown>, key, out);
    }
    return target;
  }
  let present = 0;
  for (let i = 0; i < length; i++) {
    const item = value[i];
    if (!walk.copy) {
      at(walk, i, item);
    } else if (item !== undefined || i in value) {
      target[i] = at(walk, i, item);
      present++;
    }
  }
  if (walk.copy) {
    // Properties an array was given beside its elements (structured clone keeps them): index keys come first.
    const keys = Object.keys(value);
    for (let k = present; k < keys.length; k++) {
      const key = keys[k]!;
      define(
        target as unknown as Record<string, unknown>,
        key,
        at(walk, key, (value as unknown as Record<string, unknown>)[key]),
      );
    }
  }
  return target;
}

function map(value: Map<unknown, unknown>, walk: Walk): unknown {
  noProperties(value, 'a Map', walk);
  const target = walk.copy ? new Map<unknown, unknown>() : value;
  remember(walk, value, target);
  let index = 0;
  for (const [key, item] of value) {
    const k = at(walk, { label: `.keys()[${index}]` }, key);
    const v = at(walk, { label: `.get(${describeValue(key)})` }, item);
    if (walk.copy) target.set(k, v);
    index++;
  }
  return target;
}

function set(value: Set<unknown>, walk: Walk): unknown {
  noProperties(value, 'a Set', walk);
  const target = walk.copy ? new Set<unknown>() : value;
  remember(walk, value, target);
  let index = 0;
  for (const item of value) {
    const out = at(walk, { label: `.values()[${index}]` }, item);
    if (walk.copy) target.add(out);
    index++;
  }
  return target;
}

/** An object with no prototype: structured clone would give it `Object.prototype`; it is encoded, its properties checked as any object's. */
function nullObject(value: object, walk: Walk): unknown {
  walk.encode = true;
  if (!walk.copy) return record(value, walk, value as Record<string, unknown>, undefined);
  const props: Record<string, unknown> = {};
  const placeholder: Placeholder = { t: 'object', props };
  walk.specials.push(placeholder);
  return record(value, walk, props, placeholder);
}

/**
 * An Error, as a thrown one crosses (serializeError: class name, message, stack, code, own properties
 * the table carries, cause, an AggregateError's errors); its properties are encoded like any value.
 */
function error(value: Error, walk: Walk): unknown {
  walk.encode = true;
  if (!walk.copy) return value;
  const placeholder: Record<string, unknown> & { t: string } = { t: 'error', error: undefined };
  remember(walk, value, placeholder);
  walk.specials.push(placeholder);
  placeholder['error'] = child(serializeError(value, 0, isCarried), walk);
  return placeholder;
}

/** Structured clone drops what was added to a Map, a Set, a Date or a RegExp: refused rather than lost. */
function noProperties(value: object, what: string, walk: Walk): void {
  const keys = Object.keys(value);
  if (keys.length === 0) return;
  walk.path.push(keys[0]!);
  throw new Refused(`a property of ${what}`, `structured clone drops the properties added to ${what}`);
}

function define(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function isHeaders(value: object): boolean {
  // A Headers met means undici is loaded already: looking up the global costs nothing then.
  return (
    Object.prototype.toString.call(value) === '[object Headers]' &&
    typeof globalThis.Headers === 'function' &&
    Object.getPrototypeOf(value) === globalThis.Headers.prototype
  );
}

let nodeClasses: readonly (new () => unknown)[] | undefined;

/** Node's own classes that structured clone carries as themselves (KeyObject, BlockList, SocketAddress), looked up when first needed. */
function isNodeCloneable(value: object): boolean {
  nodeClasses ??= [
    process.getBuiltinModule('node:crypto').KeyObject,
    process.getBuiltinModule('node:net').BlockList,
    process.getBuiltinModule('node:net').SocketAddress,
  ].filter((type): type is never => typeof type === 'function');
  return nodeClasses.some((type) => value instanceof type);
}

function classOf(value: object): string {
  try {
    const name = (value.constructor as { name?: unknown } | undefined)?.name;
    if (typeof name === 'string' && name !== '') return name;
  } catch {
    // A getter or a trap that throws: the tag below still names it.
  }
  return Object.prototype.toString.call(value).slice(8, -1);
}

/** What a walk that threw refuses: the value the table refused, or one that threw while read (a getter, a Proxy trap). */
function refusalOf(error: unknown, walk: Walk, root: string): Refusal {
  if (error instanceof Refused) return { place: placeOf(root, walk.path), what: error.what, why: error.why };
  if (error instanceof RangeError && /call stack/i.test(error.message))
    return {
      place: root,
      what: 'a value nested too deeply',
      why: "it is nested deeper than the thread's stack allows",
    };
  return { place: placeOf(root, walk.path), what: 'a value', why: `reading it threw ${describeThrown(error)}` };
}

function placeOf(root: string, path: readonly Step[]): string {
  let place = root;
  for (const step of path) {
    if (typeof step === 'number') place += `[${step}]`;
    else if (typeof step === 'string')
      place += /^[A-Za-z_$][\w$]*$/.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`;
    else place += step.label;
  }
  return place;
}

// ---- decoding -------------------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new TypeError(`${what} is not a string: ${describeValue(value)}`);
  return value;
}

function finite(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new TypeError(`${what} is not a number: ${describeValue(value)}`);
  return value;
}

/** How each placeholder becomes its value again; `object` and `error` are made by the decoder, which must note them before reading inside. */
const DECODERS: Readonly<Record<string, (placeholder: Placeholder) => unknown>> = {
  url: (p) => new URL(text(p['href'], 'a URL')),
  params: (p) => new URLSearchParams(text(p['text'], 'URLSearchParams')),
  headers: (p) => {
    const entries = p['entries'];
    if (!Array.isArray(entries)) throw new TypeError('the entries of Headers are not a list');
    const headers = new Headers();
    for (const entry of entries as unknown[]) {
      if (!Array.isArray(entry) || entry.length !== 2) throw new TypeError('an entry of Headers is not a pair');
      headers.append(text(entry[0], 'a header name'), text(entry[1], 'a header value'));
    }
    return headers;
  },
  buffer: (p) => {
    const bytes = p['bytes'];
    if (!(bytes instanceof Uint8Array)) throw new TypeError('the bytes of a Buffer are not a Uint8Array');
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  },
  file: (p) => {
    const blob = p['blob'];
    if (!(blob instanceof Blob)) throw new TypeError('the content of a File is not a Blob');
    return new File([blob], text(p['name'], 'the name of a File'), {
      type: text(p['type'], 'the type of a File'),
      lastModified: finite(p['lastModified'], 'the lastModified of a File'),
    });
  },
  regexp: (p) => {
    const regexp = new RegExp(text(p['source'], 'a RegExp source'), text(p['flags'], 'RegExp flags'));
    regexp.lastIndex = finite(p['lastIndex'], 'a RegExp lastIndex');
    return regexp;
  },
  object: () => Object.create(null) as unknown,
  error: (p) => {
    if (!isSerializedError(p['error'])) throw new TypeError('an encoded Error is malformed');
    return errorShell(p['error']);
  },
};

/** Reads one message's value: every container walked once (cycles and shared references are kept), every placeholder made once. */
class Decoder {
  readonly #marks: ReadonlySet<object>;
  readonly #made = new Map<object, unknown>();
  readonly #walked = new Set<object>();

  constructor(marks: ReadonlySet<object>) {
    this.#marks = marks;
  }

  read(value: unknown): unknown {
    if (value === null || typeof value !== 'object') return value;
    if (this.#marks.has(value)) return this.#special(value as Placeholder);
    if (this.#walked.has(value)) return value;
    this.#walked.add(value);
    if (value instanceof Map) {
      const before = [...value];
      const after = before.map(([key, item]) => [this.read(key), this.read(item)] as const);
      if (after.some(([key, item], i) => key !== before[i]![0] || item !== before[i]![1])) {
        value.clear();
        for (const [key, item] of after) value.set(key, item);
      }
      return value;
    }
    if (value instanceof Set) {
      const items = [...value];
      const read = items.map((item) => this.read(item));
      if (read.some((item, i) => item !== items[i])) {
        value.clear();
        for (const item of read) value.add(item);
      }
      return value;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === Object.prototype) {
      // for-in: no array of keys per object (what structured clone made has no inherited enumerable keys).
      const record = value as Record<string, unknown>;
      for (const key in record) {
        const item = record[key];
        if (item === null || typeof item !== 'object') continue;
        const out = this.read(item);
        if (out !== item) define(record, key, out);
      }
      return value;
    }
    if (proto !== Array.prototype && proto !== null) return value;
    // By keys: what arrived may be a sparse array whose length says nothing of its size, and an array's
    // own non-index properties come with it.
    const target = value as Record<string, unknown>;
    for (const key of Object.keys(target)) {
      const item = target[key];
      if (item === null || typeof item !== 'object') continue;
      const out = this.read(item);
      if (out !== item) define(target, key, out);
    }
    return value;
  }

  #special(placeholder: Placeholder): unknown {
    if (this.#made.has(placeholder)) return this.#made.get(placeholder);
    const made = DECODERS[placeholder.t]!(placeholder);
    this.#made.set(placeholder, made);
    if (placeholder.t === 'object') {
      const props = placeholder['props'];
      if (!isRecord(props)) throw new TypeError('the properties of an encoded object are not a record');
      for (const key of Object.keys(props)) define(made as Record<string, unknown>, key, this.read(props[key]));
    } else if (placeholder.t === 'error') {
      // Made before its properties are read: one of them may lead back to it.
      const data = placeholder['error'] as SerializedError;
      this.read(data);
      fillError(made as Error, data);
    }
    return made;
  }
}
