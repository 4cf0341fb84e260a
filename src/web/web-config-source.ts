import type { Gauge } from 'prom-client';
import { ConfigError, formatDiagnostic } from '../config/diagnostics.js';
import { watchConfigFile } from '../config/watch.js';
import type { Logger } from '../log.js';
import { AGENT_METRICS } from '../metrics/catalogue.js';
import type { MetricRegistries } from '../metrics/registries.js';
import { PLAIN_WEB_CONFIG } from './web-config-shape.js';
import type { WebConfig } from './web-config-shape.js';

export interface WebConfigSourceDeps {
  registries: MetricRegistries;
  log: Logger;
  /** `--web.config.file`: wins over the config's `web.config_file`. */
  override?: string | undefined;
  /** Watch the file (and the certificates beside it) and reload on change. */
  watch: boolean;
}

/**
 * The web config in force. At start-up a bad file is fatal (`ConfigError`, naming file, line and
 * field); afterwards it is re-read when the main config is applied, on SIGHUP and when its
 * directory changes (a Secret's update swaps it and the certificates together). A reload that
 * fails keeps the previous web config, logs every problem and sets
 * `vantage_web_config_last_reload_successful` to 0. Reloads run one at a time.
 */
export class WebConfigSource {
  private config: WebConfig = PLAIN_WEB_CONFIG;
  private file: string | undefined;
  private stopWatching: (() => void) | undefined;
  private reloading: Promise<boolean> = Promise.resolve(true);
  private readonly ok: Gauge;

  constructor(private readonly deps: WebConfigSourceDeps) {
    this.ok = deps.registries.gauge(AGENT_METRICS.webConfigReloadSuccess);
  }

  /** The web config connections and requests are served under now. */
  current(): WebConfig {
    return this.config;
  }

  /** The first load; throws `ConfigError` when the file is bad. */
  async start(configured: string | undefined): Promise<void> {
    this.file = this.deps.override ?? configured;
    if (this.file) this.config = await loadWebConfig(this.file);
    this.ok.set(1);
    this.watch();
  }

  /** A main config was applied: its `web.config_file` may name another file. */
  configure(configured: string | undefined): Promise<boolean> {
    const file = this.deps.override ?? configured;
    if (file === this.file) return this.reload();
    this.file = file;
    this.watch();
    return this.reload();
  }

  /** Re-reads the file; resolves true when it is the one in force afterwards. */
  reload(): Promise<boolean> {
    this.reloading = this.reloading.then(() => this.reloadNow());
    return this.reloading;
  }

  stop(): void {
    this.stopWatching?.();
    this.stopWatching = undefined;
  }

  private async reloadNow(): Promise<boolean> {
    const { file } = this;
    const { log } = this.deps;
    try {
      const next = file ? await loadWebConfig(file) : PLAIN_WEB_CONFIG;
      if (next.fingerprint !== this.config.fingerprint) {
        this.config = next;
        log.info({ file, tls: next.tls !== undefined, basic_auth_users: next.users.size }, 'web config loaded');
      }
      this.ok.set(1);
      return true;
    } catch (err) {
      this.ok.set(0);
      const problems = err instanceof ConfigError ? err.diagnostics.map(formatDiagnostic) : [String(err)];
      log.error(
        { event: 'web_config_rejected', problems, file },
        'new web config rejected; still using the previous one',
      );
      return false;
    }
  }

  private watch(): void {
    this.stop();
    const { file } = this;
    if (!file || !this.deps.watch) return;
    this.stopWatching = watchConfigFile(
      file,
      () => void this.reload(),
      (err) => this.deps.log.warn({ err, file }, 'cannot watch the web config any more; reload with SIGHUP'),
    );
  }
}

/** The loader on first use: its schema and node:tls are no plain agent's start-up. */
async function loadWebConfig(file: string): Promise<WebConfig> {
  return (await import('./web-config.js')).loadWebConfig(file);
}
