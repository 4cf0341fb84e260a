import * as z from 'zod';
import { durationSchema, sourceAddressSchema } from '../../settings/setting-schemas.js';
import { addressSelectionSettings } from '../per-ip.js';
import type { RttStats } from './rtt-stats.js';

export const icmpSettingsSchema = z.strictObject({
  /** Echo requests per address per run. Default 3. */
  count: z.number().int().min(1).max(1000).default(3),
  /** Time between two requests to one address. Default 100ms. */
  spacing: durationSchema.default(100),
  /** How long to wait for each reply, from its send. Default 1s. */
  packet_timeout: durationSchema.default(1_000),
  /** Payload bytes after the ICMP header (as ping -s). Default 56. */
  payload_size: z.number().int().min(0).max(65_000).default(56),
  /** TTL / hop limit of the requests. Default 64. */
  ttl: z.number().int().min(1).max(255).default(64),
  /** Set Don't Fragment (IPv4) / no fragmentation (IPv6), to find MTU problems. Default false. */
  dont_fragment: z.boolean().default(false),
  /** ToS / traffic class byte (e.g. 184 for DSCP EF). Default 0. */
  tos: z.number().int().min(0).max(255).default(0),
  /** Local address to send from. Default: the kernel's choice. */
  source_address: sourceAddressSchema,
  ...addressSelectionSettings,
});

export type IcmpSettings = z.output<typeof icmpSettingsSchema>;

/** Kind-specific fields of an icmp result record. */
export interface IcmpFields {
  sent: number;
  received: number;
  /** Lost / sent. */
  loss: number;
  duplicates: number;
  /** RTT summary over the replies, ms; null without replies. */
  rttMs: RttStats | null;
  /** Every reply's RTT, ms, in send order. */
  rttsMs: number[];
  /** TTL / hop limit of the last reply. */
  replyTtl: number | null;
  /**
   * Echo replies to this run's requests (matched by identifier and sequence) that came from another
   * address than the one pinged: NAT, anycast, a misrouted responder. Not counted in `received`.
   */
  otherAddressReplies: Array<{ from: string; rttMs: number }>;
  /** The first ICMP error received instead of a reply, if any. */
  icmpError: { type: string; code: number; reason: string; from: string } | null;
}
