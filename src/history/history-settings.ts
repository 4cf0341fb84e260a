import * as z from 'zod';

/**
 * Results kept per check and IP when `history.samples` is not set: an hour at the default 30 s
 * interval, about 6 KiB per check and IP (bench/history-memory.mjs).
 */
export const DEFAULT_HISTORY_SAMPLES = 120;

/**
 * The samples' bytes across all rings when `history.max_bytes` is not set: an agent of a thousand
 * checks keeps 120 samples each, one of 12,000 about 60 (120 each were 90 MiB, a third of the
 * memory such an agent is given).
 */
export const DEFAULT_HISTORY_MAX_BYTES = 16 * 1024 * 1024;

/** The `history:` block of the config: what the status pages can draw (see src/history/). */
export const historySchema = z.strictObject({
  /**
   * Results kept in memory per check and IP, the oldest dropped first; 0 keeps none (the pages then
   * show last results only). Default 120. The README's Status page section states the memory cost.
   */
  samples: z.number().int().min(0).max(100_000).default(DEFAULT_HISTORY_SAMPLES),
  /**
   * The samples' bytes across all rings: with many checks each ring keeps fewer than `samples`
   * (every ring the same number). The last result per check and IP and the bookkeeping come on top.
   */
  max_bytes: z.number().int().min(0).default(DEFAULT_HISTORY_MAX_BYTES),
});

export interface HistorySettings {
  /** `history.samples`. */
  samples: number;
  /** `history.max_bytes`. */
  maxBytes: number;
}

export function historySettings(raw: z.output<typeof historySchema>): HistorySettings {
  return { samples: raw.samples, maxBytes: raw.max_bytes };
}

export const DEFAULT_HISTORY_SETTINGS: HistorySettings = {
  samples: DEFAULT_HISTORY_SAMPLES,
  maxBytes: DEFAULT_HISTORY_MAX_BYTES,
};
