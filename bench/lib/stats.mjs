// @ts-check
// Statistics for every benchmark: one percentile rule, one summary shape, one rounding for the JSON.

/**
 * What `summarize` returns: NaN where the list was empty (count 0).
 * @typedef {{ count: number, min: number, mean: number, p50: number, p90: number, p99: number, max: number }} Summary
 */

/**
 * Percentile with linear interpolation between closest ranks (numpy's default); NaN when empty.
 * @param {ArrayLike<number>} sorted ascending
 * @param {number} p 0-100
 */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const idx = (sorted.length - 1) * (p / 100);
  const lo = Math.floor(idx);
  const hi = Math.ceil(idx);
  const low = sorted[lo] ?? NaN;
  return low + ((sorted[hi] ?? NaN) - low) * (idx - lo);
}

/**
 * count, min, mean, p50, p90, p99, max of a list of numbers.
 * @param {Iterable<number>} values
 * @returns {Summary}
 */
export function summarize(values) {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: n,
    min: n ? (sorted[0] ?? NaN) : NaN,
    mean: n ? sum / n : NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: n ? (sorted[n - 1] ?? NaN) : NaN,
  };
}

/**
 * Summary of the finite values only (unanswered probes and missing phases are null, NaN or undefined).
 * @param {readonly (number | null | undefined)[]} values
 */
export function summarizeFinite(values) {
  return summarize(/** @type {number[]} */ (values.filter((v) => Number.isFinite(v))));
}

/**
 * The interpolated median (the p50 of summarize) of the finite values.
 * @param {readonly (number | null | undefined)[]} values
 */
export function median(values) {
  return summarizeFinite(values).p50;
}

/**
 * Rounds every top-level non-integer number of an object for the JSON file (keeps it readable).
 * @template {object} T
 * @param {T} obj
 * @returns {T}
 */
export function rounded(obj, digits = 4) {
  const f = 10 ** digits;
  // Object.fromEntries loses the key types; the shape is the input's, numbers only rounded.
  return /** @type {T} */ (
    Object.fromEntries(
      Object.entries(obj).map(([k, v]) => [
        k,
        typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v) ? Math.round(v * f) / f : v,
      ]),
    )
  );
}
