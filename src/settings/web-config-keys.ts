import * as z from 'zod';
import { durationSchema } from './setting-schemas.js';

/**
 * The `web:` section of the main config: how the agent's HTTP listener defends itself. The
 * defaults are what an exposed agent needs: a connection cap far below the descriptors probes
 * need, and timeouts short enough that a slow or silent client gives its slot back in seconds.
 */
export const webServerSchema = z.strictObject({
  /**
   * exporter-toolkit web config file (TLS, client certificates, basic auth, headers); absent:
   * plain HTTP, no auth. `vantage run --web.config.file FILE` overrides it.
   */
  config_file: z.string().min(1).optional(),
  /**
   * Client connections served at once; more are closed on accept. Also held to half the process's
   * open-file limit, so listener connections can never take the descriptors probes need. Default 1000.
   */
  max_connections: z.number().int().min(1).max(100_000).default(1_000),
  /** Time a client has to send a whole request head; then 408 and close (slowloris). Default 10s. */
  header_timeout: durationSchema.default(10_000),
  /** Time an idle keep-alive connection is kept between requests. Default 5s. */
  idle_timeout: durationSchema.default(5_000),
});

/** The `web:` section as the agent uses it. */
export interface WebServerConfig {
  /** Path of the exporter-toolkit web config, if any. */
  configFile: string | undefined;
  maxConnections: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
}

export function webServerConfig(raw: z.output<typeof webServerSchema>): WebServerConfig {
  return {
    configFile: raw.config_file,
    maxConnections: raw.max_connections,
    headerTimeoutMs: raw.header_timeout,
    idleTimeoutMs: raw.idle_timeout,
  };
}

/** The defaults, for a server started without a config (tests, commands without one). */
export const DEFAULT_WEB_SERVER = webServerConfig(webServerSchema.parse({}));
