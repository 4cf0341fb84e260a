import { isIP } from 'node:net';
import * as z from 'zod';
import { parseDuration } from './duration.js';

/** Longest interval or timeout accepted: a day. Longer is a typo more often than a plan. */
const MAX_DURATION_MS = 86_400_000;

/** A local address to send from (multi-homed agents); the kernel picks when absent. */
export const sourceAddressSchema = z
  .string()
  .refine((v) => isIP(v) !== 0, 'source_address must be an IP address')
  .optional();

/** A duration string (`250ms`, `30s`, `5m`) parsed to milliseconds, at most a day. */
export const durationSchema = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration: write it like 250ms, 30s, 5m or 1h` });
    return z.NEVER;
  }
  if (ms > MAX_DURATION_MS) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is longer than the maximum of 24h` });
    return z.NEVER;
  }
  return ms;
});
