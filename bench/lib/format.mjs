/** Benchmark figures as text for people: numbers, ratios, aligned tables. */

/** `n` with `digits` decimals. */
export const fixed = (n, digits) => n.toFixed(digits);

/** A whole number with thin thousands separators: 123 456. */
export const grouped = (n) => Math.round(n).toLocaleString('en-US').replaceAll(',', ' ');

/** A ratio as `2.41×`; `—` when there is none. */
export const times = (r) => (r === undefined ? '—' : `${r < 10 ? r.toFixed(2) : r.toFixed(1)}×`);

/**
 * A table as aligned text: first column left, the others right-aligned, since they are numbers.
 * `table` is `{ title, columns: string[], rows: string[][], note?: string }`.
 */
export function formatTable({ title, columns, rows, note }) {
  const widths = columns.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i].length)));
  const line = (cells) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  return [title, line(columns), rule, ...rows.map(line), ...(note === undefined ? [] : [note])].join('\n');
}
