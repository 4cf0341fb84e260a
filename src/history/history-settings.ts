import { z } from 'zod';

/**
 * Results kept per check and IP when `history.samples` is not set: an hour at the default 30 s
 * interval, about 7 KiB per check and IP (bench/history-memory.mjs), 80 MiB at 12,000 checks.
 */
export const DEFAULT_HISTORY_SAMPLES = 120;

/** The `history:` block of the config: what the status pages can draw (see src/history/). */
export const historySchema = z.strictObject({
  /**
   * Results kept in memory per check and IP, the oldest dropped first; 0 keeps none (the pages then
   * show last results only). Default 120. The README's Status page section states the memory cost.
   */
  samples: z.number().int().min(0).max(100_000).default(DEFAULT_HISTORY_SAMPLES),
});

export interface HistorySettings {
  /** `history.samples`. */
  samples: number;
}

export function historySettings(raw: z.output<typeof historySchema>): HistorySettings {
  return { samples: raw.samples };
}
