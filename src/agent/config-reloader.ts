import { createHash } from 'node:crypto';
import type { CheckRegistry } from '../checks/registry.js';
import type { AgentConfig } from '../config/agent-config.js';
import { ConfigError, formatDiagnostic } from '../config/diagnostics.js';
import { parseConfigPaced } from '../config/load.js';
import { readConfigText, withinDeadline } from '../config/read-config.js';
import type { ReadOptions } from '../config/read-config.js';
import type { Logger } from '../log.js';

export interface ConfigReloaderDeps {
  file: string;
  registry: CheckRegistry;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /**
   * Makes a valid config the running one; throwing rejects it like a bad file. It may pause
   * (a large config's checks are built in steps); `signal` aborts when the agent stops.
   */
  apply(config: AgentConfig, signal: AbortSignal): void | Promise<void>;
  /** Each load's outcome, for `vantage_config_last_reload_successful`. */
  loaded(ok: boolean): void;
  /** A rejected file's problems, for the status page. */
  rejected?(problems: readonly string[]): void;
  /** Reads the file; default `readConfigText` (regular files only, at most 16 MiB). */
  read?: (file: string, opts: ReadOptions) => Promise<string>;
  /** How long a read may take before the reload counts as failed. Default 10 s. */
  readTimeoutMs?: number;
}

/** Why a reload in progress ended without an outcome: the agent is stopping. */
class Stopping extends Error {
  override readonly name = 'Stopping';
}

/**
 * Reads, validates and applies the config file: once at start-up (a bad file is fatal: there is
 * nothing to run) and on every reload (a bad file is reported and the last good config keeps
 * running). Reloads run one at a time, and none once stopped; stopping abandons the one in
 * progress, so shutdown never waits on a read.
 *
 * What a reload does depends on the text (compared by hash):
 * - the running config's text: nothing (no parse, no apply, counters untouched), on SIGHUP too;
 *   after a rejected file, the file coming back to it ends the failure (`loaded(true)`).
 * - the text last rejected: a file watcher event is no news (the text is the same); SIGHUP
 *   validates it again, as files it names (a `ca_file`) may have appeared since.
 * - anything else: validated and applied, giving the event loop a turn every 10 ms or so.
 */
export class ConfigReloader {
  /** Hash of the running config's text. */
  private runningHash = '';
  /** Hash of the text last read and whether it was accepted. */
  private last = { hash: '', ok: true };
  private reloading: Promise<boolean> = Promise.resolve(true);
  private readonly stopping = new AbortController();
  /** A read that has not settled: another is not started beside it (a hung filesystem holds a thread each). */
  private pendingRead: Promise<string> | undefined;

  constructor(private readonly deps: ConfigReloaderDeps) {}

  /** The config at start-up; throws `ConfigError` when it is bad. Not applied: the caller does. */
  async load(): Promise<AgentConfig> {
    const text = await this.read();
    const config = await this.parse(text);
    this.runningHash = sha256(text);
    this.last = { hash: this.runningHash, ok: true };
    this.deps.loaded(true);
    return config;
  }

  /**
   * Re-reads the file and applies it (see the class comment for when it does nothing). Resolves
   * true when the file's config is the running one afterwards.
   */
  reload(onlyIfChanged = false): Promise<boolean> {
    this.reloading = this.reloading.then(() => (this.stopping.signal.aborted ? false : this.reloadNow(onlyIfChanged)));
    return this.reloading;
  }

  /** No reload starts after this; one in progress is abandoned at its next pause, unapplied. */
  async stop(): Promise<void> {
    this.stopping.abort(new Stopping('the agent is stopping'));
    await this.reloading;
  }

  private async reloadNow(onlyIfChanged: boolean): Promise<boolean> {
    const { file, log } = this.deps;
    try {
      const text = await this.read();
      const hash = sha256(text);
      if (hash === this.runningHash) return this.unchanged();
      if (onlyIfChanged && hash === this.last.hash) return this.last.ok;
      this.last = { hash, ok: false };
      const config = await this.parse(text);
      await this.deps.apply(config, this.stopping.signal);
      this.runningHash = hash;
      this.last.ok = true;
      this.deps.loaded(true);
      log.info({ checks: config.checks.length }, 'config reloaded');
      return true;
    } catch (err) {
      if (this.stopping.signal.aborted) {
        log.info({ file }, 'config reload abandoned: the agent is stopping');
        return false;
      }
      this.deps.loaded(false);
      if (err instanceof ConfigError) {
        const problems = err.diagnostics.map(formatDiagnostic);
        log.error({ event: 'config_rejected', problems, file }, 'new config rejected; still running the previous one');
        this.deps.rejected?.(problems);
      } else {
        log.error({ err, file }, 'applying the new config failed; still running the previous one');
        this.deps.rejected?.([`applying the config failed: ${String(err)}`]);
      }
      return false;
    }
  }

  /** The file holds the running config's text: no work, unless it ends a rejected file's failure. */
  private unchanged(): boolean {
    if (!this.last.ok) {
      this.last = { hash: this.runningHash, ok: true };
      this.deps.loaded(true);
      this.deps.log.info({ file: this.deps.file }, 'config file is back to the running config');
    }
    return true;
  }

  private read(): Promise<string> {
    const { file } = this.deps;
    if (this.pendingRead)
      return Promise.reject(
        new ConfigError([
          {
            file,
            line: 1,
            col: 1,
            message:
              'an earlier read of the config file has still not returned (a hung filesystem?); nothing was changed',
          },
        ]),
      );
    const opts = { signal: this.stopping.signal, timeoutMs: this.deps.readTimeoutMs };
    const reading = (this.deps.read ?? readConfigText)(file, opts);
    this.pendingRead = reading;
    const settled = (): void => {
      if (this.pendingRead === reading) this.pendingRead = undefined;
    };
    reading.then(settled, settled);
    return withinDeadline(reading, file, opts);
  }

  private parse(text: string): Promise<AgentConfig> {
    const { file, registry, env } = this.deps;
    return parseConfigPaced(file, text, { registry, env }, { signal: this.stopping.signal });
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
