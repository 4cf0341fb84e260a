import * as z from 'zod';
import { durationSchema } from '../settings/setting-schemas.js';

// Apart from schema.ts: `vantage probe` and `diagnose` need these defaults (agent-config.ts), not
// the whole config schema (issue 20: building that is about 4 % of a `vantage probe` start).

/** When a silent IP triggers a traceroute of itself (see triggered-trace.ts). */
export const triggeredTracerouteSchema = z.strictObject({
  /** Trace silent IPs at all. Default true. */
  enabled: z.boolean().default(true),
  /** At most this many failing IPs traced per run. Default 3. */
  max_ips: z.number().int().min(1).max(16).default(3),
  /** Highest TTL probed. Default 30. */
  max_hops: z.number().int().min(1).max(64).default(30),
  /** Probes per hop. Default 2. */
  probes_per_hop: z.number().int().min(1).max(10).default(2),
  /** Longest wait for one probe. Default 1s. */
  probe_timeout: durationSchema.default(1_000),
  /** An IP is traced again only after this long. Default 5m. */
  min_interval: durationSchema.default(300_000),
});
