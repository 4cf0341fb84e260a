import { createHash } from 'node:crypto';
import type { CheckRegistry } from '../checks/registry.js';
import type { AgentConfig } from '../config/agent-config.js';
import { ConfigError, formatDiagnostic } from '../config/diagnostics.js';
import { parseConfig, readConfigText } from '../config/load.js';
import type { Logger } from '../log.js';

export interface ConfigReloaderDeps {
  file: string;
  registry: CheckRegistry;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Makes a valid config the running one; throwing rejects it like a bad file. */
  apply(config: AgentConfig): void;
  /** Each load's outcome, for `vantage_config_last_reload_successful`. */
  loaded(ok: boolean): void;
}

/**
 * Reads, validates and applies the config file: once at start-up (a bad file is fatal: there is
 * nothing to run) and on every reload (a bad file is reported and the last good config keeps
 * running). Reloads run one at a time, and none once stopped.
 */
export class ConfigReloader {
  /** Hash of the file text last read, good or bad: a watcher event for the same text is no news. */
  private lastSeenHash = '';
  private reloading: Promise<boolean> = Promise.resolve(true);
  private stopped = false;

  constructor(private readonly deps: ConfigReloaderDeps) {}

  /** The config at start-up; throws `ConfigError` when it is bad. Not applied: the caller does. */
  async load(): Promise<AgentConfig> {
    const text = await readConfigText(this.deps.file);
    const config = this.parse(text);
    this.lastSeenHash = sha256(text);
    this.deps.loaded(true);
    return config;
  }

  /**
   * Re-reads the file and applies it. Resolves true when the new config applies (or, with
   * `onlyIfChanged`, when the text is the one last read).
   */
  reload(onlyIfChanged = false): Promise<boolean> {
    this.reloading = this.reloading.then(() => (this.stopped ? false : this.reloadNow(onlyIfChanged)));
    return this.reloading;
  }

  /** No reload starts after this; resolves once the one in progress has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.reloading;
  }

  private parse(text: string): AgentConfig {
    return parseConfig(this.deps.file, text, { registry: this.deps.registry, env: this.deps.env });
  }

  private async reloadNow(onlyIfChanged: boolean): Promise<boolean> {
    const { file, log } = this.deps;
    try {
      const text = await readConfigText(file);
      const hash = sha256(text);
      if (onlyIfChanged && hash === this.lastSeenHash) return true;
      this.lastSeenHash = hash;
      const config = this.parse(text);
      this.deps.apply(config);
      this.deps.loaded(true);
      log.info({ checks: config.checks.length }, 'config reloaded');
      return true;
    } catch (err) {
      this.deps.loaded(false);
      if (err instanceof ConfigError) {
        const problems = err.diagnostics.map(formatDiagnostic);
        log.error({ event: 'config_rejected', problems, file }, 'new config rejected; still running the previous one');
      } else {
        log.error({ err, file }, 'applying the new config failed; still running the previous one');
      }
      return false;
    }
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
