// @ts-check
// How every benchmark prints: numbers formatted one way, aligned tables, and a result made of
// sections (a heading, a table, notes) that run.mjs and a file run alone print the same way.

/** @import { Summary } from './stats.mjs' */

/**
 * One table cell: a string is printed as is, a number with String(), null or undefined as '-'.
 * @typedef {string | number | null | undefined} Cell
 */

/**
 * A part of a benchmark's output: an optional heading line, an optional table, indented notes.
 * @typedef {{ heading?: string, headers?: string[], rows?: Cell[][], notes?: string[] }} Section
 */

/**
 * What a benchmark's run() returns: printed by printResult; `raw` goes to bench/results/latest.json.
 * @template [Raw=unknown]
 * @typedef {{ title: string, sections?: Section[], notes?: string[], raw?: Raw }} BenchResult
 */

/**
 * Formats a number with fixed decimals and thousands separators; '-' for missing values.
 * @param {unknown} v
 */
export function fmt(v, digits = 2) {
  if (v === undefined || v === null || (typeof v === 'number' && Number.isNaN(v))) return '-';
  if (typeof v !== 'number') return String(v);
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * Cells of a summary's statistics, in the order asked, with the same decimals:
 * `statCells(s, ['min', 'p50', 'max'], 1)`.
 * @param {Summary} summary
 * @param {readonly (keyof Summary)[]} keys
 */
export function statCells(summary, keys, digits = 2) {
  return keys.map((k) => fmt(summary[k], digits));
}

/**
 * An aligned table: text columns left, numbers right. `rows` are arrays of already formatted cells.
 * @param {readonly string[]} headers
 * @param {readonly (readonly Cell[])[]} rows
 */
export function table(headers, rows) {
  const cells = [headers, ...rows].map((r) => r.map((c) => (c === undefined || c === null ? '-' : String(c))));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((r) => /^-?[\d,.]+$|^-$/.test(String(r[i] ?? '-'))),
  );
  /** @param {string[]} r */
  const line = (r) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(cells[0] ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/**
 * Prints a benchmark result: the title, each section (heading, table, notes), then the notes.
 * @param {BenchResult} result
 * @param {NodeJS.WritableStream} out
 */
export function printResult(result, out = process.stdout) {
  const lines = [`== ${result.title} ==`];
  for (const s of result.sections ?? []) {
    if (s.heading) lines.push(s.heading);
    if (s.headers) lines.push(table(s.headers, s.rows ?? []));
    for (const n of s.notes ?? []) lines.push(`  ${n}`);
    lines.push('');
  }
  for (const n of result.notes ?? []) lines.push(`note: ${n}`);
  if ((result.notes ?? []).length === 0 && lines[lines.length - 1] === '') lines.pop();
  out.write(`${lines.join('\n')}\n\n`);
}
