import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { AgentIdentity, EgressConfig } from '../config/agent-config.js';
import type { Logger } from '../log.js';
import type { EgressAnswer } from '../net/egress-lookup.js';

/** The agent's public address changed: users behind it may be seeing a different path. */
export interface EgressChangeEvent {
  event: 'egress_change';
  eventId: string;
  time: string;
  agent: AgentIdentity;
  previous: string;
  current: string;
  /** What each echo service answered in the lookup that saw the change. */
  answers: EgressAnswer[];
}

export interface EgressMonitorDeps {
  clock: Clock;
  log: Logger;
  identity(): AgentIdentity;
  ask(urls: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<EgressAnswer[]>;
  /** A lookup finished: `address` is null when no service answered with one. */
  looked(address: string | null): void;
  changed(event: EgressChangeEvent): void;
  /** Lookups were turned off: the last address is no longer known. */
  forgotten(): void;
}

/**
 * Re-asks the echo services on an interval. The first service (in config order) that answers
 * with an address decides; a change between two answered lookups is an event, an unanswered
 * lookup keeps the last known address (a flaky echo service is not a new egress).
 */
export class EgressMonitor {
  private config: EgressConfig = { urls: [], intervalMs: 0, timeoutMs: 0 };
  private cancelTimer: (() => void) | undefined;
  private inFlight: AbortController | undefined;
  private known: string | undefined;

  constructor(private readonly deps: EgressMonitorDeps) {}

  /** The last address an echo service gave, if any. */
  get address(): string | undefined {
    return this.known;
  }

  /** Applies a config: a changed one restarts the schedule with a lookup now. */
  reconfigure(config: EgressConfig): void {
    if (JSON.stringify(config) === JSON.stringify(this.config)) return;
    this.stop();
    this.config = config;
    if (config.urls.length > 0) {
      void this.lookup();
    } else if (this.known !== undefined) {
      this.known = undefined;
      this.deps.forgotten();
    }
  }

  stop(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.inFlight?.abort();
    this.inFlight = undefined;
  }

  private async lookup(): Promise<void> {
    const config = this.config;
    const controller = new AbortController();
    this.inFlight = controller;
    try {
      const answers = await this.deps.ask(config.urls, config.timeoutMs, controller.signal);
      if (controller.signal.aborted) return;
      this.decide(answers);
    } catch (err) {
      this.deps.log.error({ err }, 'egress IP lookup failed unexpectedly; trying again at the next interval');
    } finally {
      if (!controller.signal.aborted) {
        this.inFlight = undefined;
        this.cancelTimer = this.deps.clock.setTimer(config.intervalMs, () => void this.lookup());
      }
    }
  }

  private decide(answers: EgressAnswer[]): void {
    const address = answers.find((a) => a.address !== null)?.address ?? null;
    this.deps.looked(address);
    if (address === null) {
      this.deps.log.warn(
        { answers },
        'egress IP lookup failed: no echo service answered with an address; check egress.urls and outbound HTTPS',
      );
      return;
    }
    const previous = this.known;
    this.known = address;
    if (previous !== undefined && address !== previous) {
      this.deps.changed({
        event: 'egress_change',
        eventId: randomUUID(),
        time: new Date(this.deps.clock.wallMs()).toISOString(),
        agent: this.deps.identity(),
        previous,
        current: address,
        answers,
      });
    }
  }
}
