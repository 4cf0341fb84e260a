import { z } from 'zod';
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
  max_age: durationSchema.default(300_000),
  /** At most this many observations per target (and per IP), the oldest evicted first. Default 100. */
  max_samples: z.number().int().min(1).max(10_000).default(100),
  /** Weight of an observation `period` old (0.5: Chromium's half-life; Ctrip runs 0.3). Default 0.5. */
  decay: z.number().gt(0).max(1).default(0.5),
  /** The age at which an observation weighs `decay`. Default `60s`. */
  period: durationSchema.default(60_000),
  /** A figure has no value with fewer valid observations than this. Default 5. */
  min_samples: z.number().int().min(1).max(10_000).default(5),
  /** RTTs above this are invalid and dropped before they enter the window. Default `60s`. */
  max_rtt: durationSchema.default(60_000),
  ...thresholdShape,
  /** Threshold overrides per target name, e.g. `{ satellite-link: { transport_rtt: 900ms } }`. */
  targets: z.record(z.string(), z.strictObject(thresholdShape)).default({}),
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

const DEFAULT_THRESHOLDS: Thresholds = { httpRttMs: 1_000, transportRttMs: 400, successRate: 0.9, trend: 0.2 };

/** The model's settings as it uses them (times in milliseconds). */
export interface QualitySettings {
  maxAgeMs: number;
  maxSamples: number;
  decay: number;
  periodMs: number;
  minSamples: number;
  maxRttMs: number;
  thresholds: Thresholds;
  /** Per-target thresholds, the global ones filled in where a target sets none. */
  targets: ReadonlyMap<string, Thresholds>;
  recordFile?: { path: string; maxBytes: number; maxFiles: number };
}

function thresholds(raw: RawThresholds, base: Thresholds): Thresholds {
  return {
    httpRttMs: raw.http_rtt ?? base.httpRttMs,
    transportRttMs: raw.transport_rtt ?? base.transportRttMs,
    successRate: raw.success_rate ?? base.successRate,
    trend: raw.trend ?? base.trend,
  };
}

/** The `quality:` block as the model uses it. */
export function qualitySettings(raw: RawQuality): QualitySettings {
  const global = thresholds(raw, DEFAULT_THRESHOLDS);
  return {
    maxAgeMs: raw.max_age,
    maxSamples: raw.max_samples,
    decay: raw.decay,
    periodMs: raw.period,
    minSamples: raw.min_samples,
    maxRttMs: raw.max_rtt,
    thresholds: global,
    targets: new Map(Object.entries(raw.targets).map(([name, t]) => [name, thresholds(t, global)])),
    ...(raw.record_file
      ? {
          recordFile: {
            path: raw.record_file.path,
            maxBytes: raw.record_file.max_bytes,
            maxFiles: raw.record_file.max_files,
          },
        }
      : {}),
  };
}

/** The settings of a config without a `quality:` block. */
export const DEFAULT_QUALITY = qualitySettings(qualitySchema.parse({}));
