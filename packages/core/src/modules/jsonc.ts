/**
 * JSON with comments and trailing commas, as tsconfig.json files are written: comments and
 * trailing commas are blanked out (outside strings), then `JSON.parse` reads the rest. Pure.
 */

/** Parses JSONC text; throws a SyntaxError as `JSON.parse` does for anything else that is not JSON. */
export function parseJsonc(text: string): unknown {
  return JSON.parse(stripJsonc(text));
}

/**
 * `text` with its comments and trailing commas replaced by spaces, so positions stay where they were.
 * Linear in the text's length: the pieces are kept in an array, and a trailing comma is blanked where
 * it sits, so a 16 MiB tsconfig of trailing commas costs no more than any other (re-slicing the output
 * at every one was quadratic: 200 kB of `[1,],` took seconds of the host's event loop).
 */
export function stripJsonc(text: string): string {
  const out: string[] = [];
  let i = 0;
  // Where in `out` the last comma outside a string was written, while only blanks followed it.
  let comma = -1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      const end = stringEnd(text, i);
      out.push(text.slice(i, end));
      i = end;
      comma = -1;
    } else if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      out.push(' '.repeat(stop - i));
      i = stop;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      out.push(text.slice(i, stop).replace(/[^\n]/g, ' '));
      i = stop;
    } else {
      if ((c === '}' || c === ']') && comma !== -1) out[comma] = ' ';
      if (c === ',') comma = out.length;
      else if (!/\s/.test(c)) comma = -1;
      out.push(c);
      i++;
    }
  }
  return out.join('');
}

function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i + 1;
  }
  return text.length;
}
