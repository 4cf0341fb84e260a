/**
 * The k-th smallest of `values` (0-based), by quickselect: reorders `values` in place and returns
 * `values[k]` as a sorted array would hold it. Linear on average: the agent's class takes three
 * medians over every target once a second, and sorting them held the event loop 3 ms at 12,000
 * targets (a CPU profile of bench/scale.mjs), selecting about a tenth of that. NaN must not occur.
 */
export function kthSmallest(values: Float64Array, k: number): number {
  if (!(k >= 0 && k < values.length)) throw new RangeError(`k ${k} outside 0..${values.length - 1}`);
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    // Median of three as the pivot: sorted or constant input stays linear.
    const mid = (lo + hi) >>> 1;
    const pivot = middleOf(values[lo]!, values[mid]!, values[hi]!);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const swap = values[i]!;
        values[i] = values[j]!;
        values[j] = swap;
        i++;
        j--;
      }
    }
    // [lo, j] <= pivot <= [i, hi]; between them, values equal to the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k]!;
  }
  return values[k]!;
}

function middleOf(a: number, b: number, c: number): number {
  return a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
}
