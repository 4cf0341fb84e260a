import * as z from 'zod';
import { sourceAddressSchema } from '../../settings/setting-schemas.js';
import { pemFileSchema } from '../../settings/pem-file.js';
import { regexSchema } from '../../settings/user-regex.js';
import type { TlsFacts } from '../../net/http/tls-facts.js';
import { addressSelectionSettings } from '../per-ip.js';

/** `200`, `2xx`, `200-299`. */
const statusSchema = z.union([
  z.number().int().min(100).max(599),
  z.string().regex(/^([1-5]xx|\d{3}(-\d{3})?)$/, 'write a status as 200, 2xx or 200-299'),
]);

export const httpsSettingsSchema = z.strictObject({
  /** Request method. Default GET. */
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET'),
  /** Request headers (values are redacted in logs when they look like secrets). */
  headers: z.record(z.string(), z.string()).default({}),
  /** Request body. */
  body: z.string().optional(),
  /** `auto` offers HTTP/2 and HTTP/1.1 by ALPN; `1.1` or `2` insists. Default auto. */
  // Numbers too: YAML reads an unquoted 1.1 or 2 as a number.
  http_version: z
    .union([z.enum(['auto', '1.1', '2']), z.literal(1.1), z.literal(2)])
    .transform((v) => String(v) as 'auto' | '1.1' | '2')
    .default('auto'),
  /** Follow redirects (each hop is recorded). Default true. */
  follow_redirects: z.boolean().default(true),
  /** At most this many redirects. Default 10. */
  max_redirects: z.number().int().min(0).max(30).default(10),
  /** Final status codes that pass. Default [2xx]. */
  accept_status: z.array(statusSchema).min(1).default(['2xx']),
  /** The body (first max_body_bytes) must match. */
  body_regex: regexSchema('body_regex').optional(),
  /** Some response header line (`name: value`) must match. */
  header_regex: regexSchema('header_regex').optional(),
  /** Larger bodies fail (HTTP_BODY_TOO_LARGE): reading stops here and the connection closes. Default 1 MiB. */
  max_body_bytes: z.number().int().min(0).default(1_048_576),
  /** PEM file of CAs to trust in addition to the system's (private CAs); checked at load, at most 1 MiB. */
  ca_file: pemFileSchema('certificates').optional(),
  /** Client certificate (chain) and unencrypted key (PEM files) for mutual TLS; checked at load. */
  client_cert_file: pemFileSchema('certificates').optional(),
  client_key_file: pemFileSchema('private-key').optional(),
  /** Local address to connect from. */
  source_address: sourceAddressSchema,
  ...addressSelectionSettings,
});

export type HttpsSettings = z.output<typeof httpsSettingsSchema>;

export interface RedirectHop {
  url: string;
  status: number;
  ip: string;
  durationMs: number;
}

/** Kind-specific fields of an https result record. */
export interface HttpsFields {
  url: string;
  /** Final status (0 when there was no response). */
  status: number;
  httpVersion: string | null;
  tls: TlsFacts | null;
  redirects: RedirectHop[];
  contentLength: number | null;
}
