import * as z from 'zod';
import { durationSchema } from '../settings/setting-schemas.js';

/**
 * The thresholds that make a class. Defaults are for probes from cloud and carrier vantage points
 * (the README's Quality section says why, next to Chromium's weak-network line).
 */
const thresholdShape = {
  /** HTTP RTT (request written -> first byte) at or above which a target is Bad. Default `1s`. */
  http_rtt: durationSchema.optional(),
  /** Transport RTT (tcp connect, icmp echo, https connect) at or above which a target is Bad. Default `400ms`. */
  transport_rtt: durationSchema.optional(),
  /** Success rate at or below which a target is Bad, unless its trend is above `trend`. Default 0.9. */
  success_rate: z.number().min(0).max(1).optional(),
  /** A rising success rate whose trend is above this is not Bad (recovery shows at once). Default 0.2. */
  trend: z.number().min(-1).max(1).optional(),
};

/** The `quality:` block of the config: the network-quality model (see src/quality/). */
export const qualitySchema = z.strictObject({
  /** Observations older than this leave a target's window. Default `5m`. */
  max_age: durationSchema.optional(),
  /** At most this many observations per target (and per IP), the oldest evicted first. Default 100. */
  max_samples: z.number().int().min(1).max(10_000).optional(),
  /** Weight of an observation `period` old (0.5: Chromium's half-life; Ctrip runs 0.3). Default 0.5. */
  decay: z.number().gt(0).max(1).optional(),
  /** The age at which an observation weighs `decay`. Default `60s`. */
  period: durationSchema.optional(),
  /** A figure has no value with fewer valid observations than this. Default 5. */
  min_samples: z.number().int().min(1).max(10_000).optional(),
  /** RTTs above this are invalid and dropped before they enter the window. Default `60s`. */
  max_rtt: durationSchema.optional(),
  ...thresholdShape,
  /** Threshold overrides per target name, e.g. `{ satellite-link: { transport_rtt: 900ms } }`. */
  targets: z.record(z.string(), z.strictObject(thresholdShape)).optional(),
  /** JSON lines of every observation, the input of `vantage quality replay`; rotated like the file sink. */
  record_file: z
    .strictObject({
      /** File to append observations to. */
      path: z.string().min(1),
      /** Rotate when the file would grow past this many bytes. Default 10 MiB. */
      max_bytes: z.number().int().min(1_024).default(10_485_760),
      /** Files kept, the current one included. Default 5. */
      max_files: z.number().int().min(1).max(100).default(5),
    })
    .optional(),
});

export type RawQuality = z.output<typeof qualitySchema>;
type RawThresholds = z.output<z.ZodObject<typeof thresholdShape>>;

/** When a target's figures make it Bad. */
export interface Thresholds {
  httpRttMs: number;
  transportRttMs: number;
  successRate: number;
  trend: number;
}

/** The model's settings as it uses them (times in milliseconds). */
export interface QualitySettings {
  maxAgeMs: number;
  maxSamples: number;
  decay: number;
  periodMs: number;
  minSamples: number;
  maxRttMs: number;
  thresholds: Thresholds;
  /** Per-target thresholds; the global ones apply where a target sets none. */
  targets: ReadonlyMap<string, Partial<Thresholds>>;
  recordFile?: { path: string; maxBytes: number; maxFiles: number };
}

/** The settings without a `quality:` block. */
export const DEFAULT_QUALITY: QualitySettings = {
  maxAgeMs: 300_000,
  maxSamples: 100,
  decay: 0.5,
  periodMs: 60_000,
  minSamples: 5,
  maxRttMs: 60_000,
  thresholds: { httpRttMs: 1_000, transportRttMs: 400, successRate: 0.9, trend: 0.2 },
  targets: new Map(),
};

function thresholds(raw: RawThresholds): Partial<Thresholds> {
  const out: Partial<Thresholds> = {};
  if (raw.http_rtt !== undefined) out.httpRttMs = raw.http_rtt;
  if (raw.transport_rtt !== undefined) out.transportRttMs = raw.transport_rtt;
  if (raw.success_rate !== undefined) out.successRate = raw.success_rate;
  if (raw.trend !== undefined) out.trend = raw.trend;
  return out;
}

/** `settings` with what `raw` sets (a config's block over the defaults, command-line overrides over a config's). */
export function qualitySettings(raw: RawQuality, settings: QualitySettings = DEFAULT_QUALITY): QualitySettings {
  const file = raw.record_file;
  const recordFile = file
    ? { path: file.path, maxBytes: file.max_bytes, maxFiles: file.max_files }
    : settings.recordFile;
  return {
    maxAgeMs: raw.max_age ?? settings.maxAgeMs,
    maxSamples: raw.max_samples ?? settings.maxSamples,
    decay: raw.decay ?? settings.decay,
    periodMs: raw.period ?? settings.periodMs,
    minSamples: raw.min_samples ?? settings.minSamples,
    maxRttMs: raw.max_rtt ?? settings.maxRttMs,
    thresholds: { ...settings.thresholds, ...thresholds(raw) },
    targets: raw.targets
      ? new Map(Object.entries(raw.targets).map(([name, t]) => [name, thresholds(t)]))
      : settings.targets,
    ...(recordFile ? { recordFile } : {}),
  };
}

/** A target's thresholds: its own where it sets them, the global ones elsewhere. */
export function targetThresholds(settings: QualitySettings, target: string): Thresholds {
  const own = settings.targets.get(target);
  return own ? { ...settings.thresholds, ...own } : settings.thresholds;
}
