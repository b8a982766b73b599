/**
 * Where things are in a JSON text, found by reading it as RFC 8259 (and JSON.parse) do: the first
 * place a text stops being JSON and what is wrong there, and where the values at given paths start.
 * Nothing here reads the JavaScript engine's error messages, whose wording changes between Node
 * versions. The scan keeps its own stack, so no nesting depth JSON.parse accepts can overflow it.
 */

/** A place in a text as editors number it: line and column from 1, columns in UTF-16 code units, lines ended by `\n`. */
export interface TextPosition {
  readonly line: number;
  readonly column: number;
}

/** Where a text stops being JSON: the offset of the first character no JSON document can continue with, and why. */
export interface JsonSyntaxError {
  /** Offset in the text; for input that ends too early, just after its last character that is not whitespace. */
  readonly offset: number;
  /** What is wrong there, for people: `unexpected token ']'`, `expected ':' after property name`, … */
  readonly problem: string;
}

/** A path into a JSON document: keys and indexes from the top. */
export type JsonPath = readonly (string | number)[];

/** The line and column of `offset` in `text`. */
export function positionAt(text: string, offset: number): TextPosition {
  return lineIndex(text)(offset);
}

/** A function giving the line and column of offsets in `text`, for many look-ups in one text. */
export function lineIndex(text: string): (offset: number) => TextPosition {
  const starts = [0];
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) starts.push(at + 1);
  return (offset) => {
    let low = 0; // starts[low] <= offset < starts[high]
    let high = starts.length;
    while (high - low > 1) {
      const middle = (low + high) >>> 1;
      if (starts[middle]! <= offset) low = middle;
      else high = middle;
    }
    return { line: low + 1, column: offset - starts[low]! + 1 };
  };
}

/** The first syntax error of `text` read as one JSON document, or `undefined` when it is one. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  return new Scan(text, undefined).run();
}

/** Where things at paths start in a JSON document; see {@link locateInJson}. */
export interface JsonLocations {
  /**
   * The offset where the value at `path` starts, or with `key`, where the key naming it does. For a path
   * the document lacks (a missing key), the nearest enclosing value that is there: the object missing it.
   */
  offsetOf(path: JsonPath, options?: { key?: boolean }): number;
}

/**
 * Finds where the values at `paths` (and the keys naming them) start in `text`, a valid JSON document:
 * one pass that records only the places on the way to a path asked for. A key written twice is found
 * where its last value is, the one JSON.parse keeps.
 */
export function locateInJson(text: string, paths: readonly JsonPath[]): JsonLocations {
  const root: Step = { next: new Map() };
  for (const path of paths) {
    let step = root;
    for (const key of path) {
      let next = step.next.get(key);
      if (next === undefined) {
        next = { next: new Map() };
        step.next.set(key, next);
      }
      step = next;
    }
  }
  const error = new Scan(text, root).run();
  if (error !== undefined) {
    throw new Error(`locateInJson needs valid JSON; at offset ${error.offset}: ${error.problem}`);
  }
  return {
    offsetOf(path, options = {}) {
      let step: Step | undefined = root;
      let enclosing = 0;
      for (const key of path) {
        if (step.place !== undefined) enclosing = step.place.value;
        step = step.next.get(key);
        if (step === undefined) return enclosing;
      }
      const { place } = step;
      if (place === undefined) return enclosing;
      return options.key ? (place.key ?? place.value) : place.value;
    },
  };
}

/**
 * One key of the paths asked for, and where the scan found its value. The paths make a tree (paths that
 * share a start share its steps), so a path as deep as the document costs its length, not its square.
 */
interface Step {
  place?: Place;
  readonly next: Map<string | number, Step>;
}

interface Place {
  /** Where the value starts. */
  readonly value: number;
  /** Where the key naming it starts, for a member of an object. */
  readonly key?: number;
}

/** An open array or object: where the scan is inside it. */
interface Frame {
  readonly object: boolean;
  /** The container's step, when a path asked for runs through it; `undefined`: record nothing inside. */
  readonly step: Step | undefined;
  index: number;
}

/** Thrown inside the scan, caught by run(). */
class Stop {
  constructor(readonly error: JsonSyntaxError) {}
}

/** One reading of a text; given the tree of paths asked for, it records where each of them is. */
class Scan {
  readonly #text: string;
  readonly #root: Step | undefined;
  #at = 0;

  constructor(text: string, root: Step | undefined) {
    this.#text = text;
    this.#root = root;
  }

  run(): JsonSyntaxError | undefined {
    try {
      this.#document();
      return undefined;
    } catch (error) {
      if (error instanceof Stop) return error.error;
      throw error;
    }
  }

  #document(): void {
    const text = this.#text;
    const stack: Frame[] = [];
    let step = this.#root;
    let keyAt: number | undefined;
    for (;;) {
      // A value is due here.
      this.#skipSpace();
      const start = this.#at;
      if (step !== undefined) step.place = keyAt === undefined ? { value: start } : { value: start, key: keyAt };
      const c = text[start];
      if (c === '{' || c === '[') {
        this.#at++;
        const frame: Frame = { object: c === '{', step, index: 0 };
        this.#skipSpace();
        if (text[this.#at] === (frame.object ? '}' : ']')) this.#at++;
        else {
          stack.push(frame);
          [step, keyAt] = frame.object ? this.#member(frame) : [frame.step?.next.get(0), undefined];
          continue;
        }
      } else this.#scalar();

      // A value ended: what follows it in its container, until one expects another value.
      for (;;) {
        const frame = stack.at(-1);
        this.#skipSpace();
        if (frame === undefined) {
          if (this.#at < text.length) this.#fail(this.#at, `unexpected token ${this.#token()} after the document`);
          return;
        }
        const next = text[this.#at];
        if (next === (frame.object ? '}' : ']')) {
          this.#at++;
          stack.pop();
          continue;
        }
        if (next !== ',') {
          this.#unexpected(
            frame.object ? "expected ',' or '}' after property value" : "expected ',' or ']' after array element",
          );
        }
        this.#at++;
        frame.index++;
        [step, keyAt] = frame.object ? this.#member(frame) : [frame.step?.next.get(frame.index), undefined];
        break;
      }
    }
  }

  /** Reads `"key":` of an object member; returns the step of its value (when recorded) and where the key starts. */
  #member(frame: Frame): [Step | undefined, number] {
    this.#skipSpace();
    const keyAt = this.#at;
    if (this.#text[keyAt] !== '"') this.#unexpected('expected a double-quoted property name');
    this.#string();
    // The key as JSON.parse reads it, escapes decoded; decoded only inside a container a path runs through.
    const key = frame.step === undefined ? '' : (JSON.parse(this.#text.slice(keyAt, this.#at)) as string);
    const step = frame.step?.next.get(key);
    this.#skipSpace();
    if (this.#text[this.#at] !== ':') this.#unexpected("expected ':' after property name");
    this.#at++;
    return [step, keyAt];
  }

  #scalar(): void {
    const c = this.#text[this.#at];
    if (c === '"') this.#string();
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) this.#number();
    else if (c === 't') this.#literal('true');
    else if (c === 'f') this.#literal('false');
    else if (c === 'n') this.#literal('null');
    else this.#unexpected();
  }

  #string(): void {
    const text = this.#text;
    this.#at++; // the opening quote
    for (;;) {
      if (this.#at >= text.length) this.#fail(text.length, 'unterminated string');
      const c = text.charCodeAt(this.#at);
      if (c === 0x22) {
        this.#at++;
        return;
      }
      if (c < 0x20) this.#fail(this.#at, `unescaped control character ${this.#token()} in string`);
      if (c !== 0x5c) {
        this.#at++;
        continue;
      }
      const escaped = text[++this.#at];
      if (escaped === undefined) this.#fail(text.length, 'unterminated string');
      if ('"\\/bfnrt'.includes(escaped)) this.#at++;
      else if (escaped === 'u') {
        for (let digit = 1; digit <= 4; digit++) {
          const at = this.#at + digit;
          if (at >= text.length) this.#fail(text.length, 'unterminated string');
          if (!/[0-9A-Fa-f]/.test(text[at]!))
            this.#fail(at, `bad \\u escape in string: ${this.#token(at)} is not a hex digit`);
        }
        this.#at += 5;
      } else this.#fail(this.#at, `bad escape in string: ${this.#token()} cannot follow '\\'`);
    }
  }

  #number(): void {
    const text = this.#text;
    const digits = (): boolean => {
      const from = this.#at;
      while (isDigit(text[this.#at])) this.#at++;
      return this.#at > from;
    };
    if (text[this.#at] === '-') this.#at++;
    if (text[this.#at] === '0') {
      this.#at++;
      if (isDigit(text[this.#at])) this.#fail(this.#at, 'a number cannot have a leading zero');
    } else if (!digits()) this.#fail(this.#at, 'no number after minus sign');
    if (text[this.#at] === '.') {
      this.#at++;
      if (!digits()) this.#fail(this.#at, 'no digit after the decimal point');
    }
    if (text[this.#at] === 'e' || text[this.#at] === 'E') {
      this.#at++;
      if (text[this.#at] === '+' || text[this.#at] === '-') this.#at++;
      if (!digits()) this.#fail(this.#at, 'no digit in the exponent');
    }
  }

  #literal(word: string): void {
    for (const expected of word) {
      if (this.#text[this.#at] !== expected) this.#unexpected();
      this.#at++;
    }
  }

  #skipSpace(): void {
    const text = this.#text;
    while (this.#at < text.length) {
      const c = text.charCodeAt(this.#at);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.#at++;
    }
  }

  /** Stops at the current character (`expected`, or that it was unexpected), or at the end of the input. */
  #unexpected(expected?: string): never {
    const text = this.#text;
    if (this.#at >= text.length) {
      let end = text.length;
      while (end > 0 && ' \t\n\r'.includes(text[end - 1]!)) end--;
      this.#fail(end, 'unexpected end of JSON input');
    }
    this.#fail(this.#at, expected ?? `unexpected token ${this.#token()}`);
  }

  #fail(offset: number, problem: string): never {
    throw new Stop({ offset, problem });
  }

  /** The character at `at`, quoted for a message; one that would not show (a control or format character, a non-ASCII space) as its \u escape. */
  #token(at = this.#at): string {
    const code = this.#text.codePointAt(at)!;
    const c = String.fromCodePoint(code);
    if (c === ' ' || !/^[\p{Cc}\p{Cf}\p{Z}]$/u.test(c)) return `'${c}'`;
    const hex = code.toString(16);
    return code > 0xffff ? `'\\u{${hex}}'` : `'\\u${hex.padStart(4, '0')}'`;
  }
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}
