import * as z from 'zod';
import { sourceAddressSchema } from '../../settings/setting-schemas.js';
import { addressSelectionSettings } from '../per-ip.js';

export const tcpSettingsSchema = z.strictObject({
  /** TCP port to connect to. Required unless the target is a URL (its port, or 443/80). */
  port: z.number().int().min(1).max(65535).optional(),
  /** Local address to connect from (multi-homed agents). Default: the kernel picks. */
  source_address: sourceAddressSchema,
  ...addressSelectionSettings,
});

export type TcpSettings = z.output<typeof tcpSettingsSchema>;

/** Kind-specific fields of a tcp result record. */
export interface TcpFields {
  port: number;
  /** SYN sent to connection established, in milliseconds. */
  connectMs: number;
}
