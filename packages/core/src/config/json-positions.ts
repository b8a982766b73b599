/** Where things are in a JSON text: offsets as line and column, and the first character a document cannot continue with. */

/** A place in a text, as editors number it: line and column from 1. */
export interface TextPosition {
  readonly line: number;
  readonly column: number;
}

/** The line and column of `offset` in `text`. */
export function positionAt(text: string, offset: number): TextPosition {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

/** Offset of the first character no JSON document can continue with: one past the longest prefix that could still become valid. */
export function firstBadOffset(text: string): number {
  const couldContinue = (prefix: string): boolean => {
    try {
      JSON.parse(prefix);
      return true;
    } catch (error) {
      const said = (error as Error).message;
      const position = /at position (\d+)/.exec(said);
      return position ? Number(position[1]) >= prefix.length : /end of JSON input/.test(said);
    }
  };
  let good = 0; // text.slice(0, good) could continue; text.slice(0, bad) cannot
  let bad = text.length;
  while (bad - good > 1) {
    const middle = (good + bad) >>> 1;
    if (couldContinue(text.slice(0, middle))) good = middle;
    else bad = middle;
  }
  return good;
}
