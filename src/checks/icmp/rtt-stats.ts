/** Summary of round-trip times, in milliseconds (population standard deviation, as ping's mdev). */
export interface RttStats {
  min: number;
  avg: number;
  median: number;
  max: number;
  stddev: number;
}

export function rttStats(rtts: readonly number[]): RttStats | null {
  if (rtts.length === 0) return null;
  const sorted = [...rtts].sort((a, b) => a - b);
  const avg = sorted.reduce((sum, x) => sum + x, 0) / sorted.length;
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const variance = sorted.reduce((sum, x) => sum + (x - avg) ** 2, 0) / sorted.length;
  return { min: sorted[0]!, avg, median, max: sorted[sorted.length - 1]!, stddev: Math.sqrt(variance) };
}
