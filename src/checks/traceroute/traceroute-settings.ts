import * as z from 'zod';
import { durationSchema } from '../../settings/setting-schemas.js';
import { addressSelectionSettings } from '../per-ip.js';
import type { TraceHop } from './trace.js';

export const tracerouteSettingsSchema = z.strictObject({
  /** Highest TTL / hop limit probed. Default 30. */
  max_hops: z.number().int().min(1).max(64).default(30),
  /** Probes per hop. Default 3. */
  probes_per_hop: z.number().int().min(1).max(10).default(3),
  /** Longest wait for one probe's answer. Default 1s. */
  probe_timeout: durationSchema.default(1_000),
  ...addressSelectionSettings,
  /** Which resolved addresses to trace: the first N (default 1) or `all`. */
  ips: z.union([z.literal('all'), z.number().int().min(1)]).default(1),
});

export type TracerouteSettings = z.output<typeof tracerouteSettingsSchema>;

/** Kind-specific fields of a traceroute result record. */
export interface TracerouteFields {
  reached: boolean;
  hops: TraceHop[];
  routeHash: string;
  lastRespondingHop: number;
  /** Hops to the destination when reached, else to the last responding hop. */
  hopCount: number;
  /** The route hash differs from this check's previous trace of the same IP. */
  routeChanged: boolean;
}
