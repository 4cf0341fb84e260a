import type { Clock } from '../clock.js';
import { httpsKind } from '../checks/https/index.js';
import type { AgentConfig } from '../config/agent-config.js';
import type { Logger } from '../log.js';
import type { NetDeps } from '../net/net-deps.js';
import { renderDiagnosis, renderDiagnosisJson } from '../diagnose/render.js';
import type { DiagnosisReport } from '../diagnose/report.js';
import type { QualityView } from '../quality/quality-model.js';
import type { EndpointReply } from '../web/server.js';
import { DEFAULT_STEP_TIMEOUT_MS, diagnose } from './diagnose-run.js';

export interface DiagnoseEndpointDeps {
  net: NetDeps;
  clock: Clock;
  log: Logger;
  config(): AgentConfig | undefined;
  /** Renders `?format=html` (the status pages' report); absent: text. */
  html?(report: DiagnosisReport): string;
  /** The quality model's view of a configured target (by name), shown in the report. */
  quality?(target: string): QualityView | undefined;
}

/**
 * `GET /diagnose?target=NAME`: the `vantage diagnose` report for a target of the running config.
 * Only configured targets, looked up by name, are probed, so the endpoint cannot be turned
 * against arbitrary hosts; one report runs at a time and reports start at most every
 * `min_interval`, so a scraper loop or a curious crowd cannot turn it into a traffic source.
 */
export class DiagnoseEndpoint {
  private running: AbortController | undefined;
  private lastStartMs = Number.NEGATIVE_INFINITY;
  private stopped = false;

  constructor(private readonly deps: DiagnoseEndpointDeps) {}

  async handle(query: URLSearchParams, wantsJson: boolean): Promise<EndpointReply> {
    const config = this.deps.config();
    if (this.stopped) return text(503, 'the agent is shutting down\n');
    if (!config?.diagnoseEndpoint.enabled)
      return text(404, 'the diagnose endpoint is off; set diagnose_endpoint.enabled: true to serve it\n');
    const name = query.get('target');
    if (!name) return text(400, 'give the target: /diagnose?target=NAME (a target name from the config)\n');
    const ofTarget = config.checks.filter((c) => c.target.name === name);
    const spec = ofTarget[0];
    if (!spec) return text(404, `no target named "${name}" in the config; only configured targets can be diagnosed\n`);
    // Monotonic: a wall-clock step must not lock the endpoint out (or open it early).
    const now = Number(this.deps.clock.monotonicNs() / 1_000_000n);
    const waitMs = this.running
      ? config.diagnoseEndpoint.minIntervalMs
      : this.lastStartMs + config.diagnoseEndpoint.minIntervalMs - now;
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      const reply = text(429, `a report ${this.running ? 'is running' : 'ran recently'}; try again in ${seconds} s\n`);
      return { ...reply, headers: { ...reply.headers, 'retry-after': String(seconds) } };
    }
    this.lastStartMs = now;
    const controller = new AbortController();
    this.running = controller;
    this.deps.log.info({ target: name }, 'diagnose report requested');
    try {
      // A private CA the target's https check trusts is trusted by its report too.
      const https = ofTarget.find((c) => c.kind === httpsKind.kind)?.settings;
      const caFile = https && 'ca_file' in https && typeof https.ca_file === 'string' ? https.ca_file : undefined;
      const report = await diagnose(
        [spec.target.url ?? spec.target.host],
        {
          resolvers: [...config.diagnoseEndpoint.resolvers],
          count: config.diagnoseEndpoint.count,
          traceroute: 'auto',
          timeoutMs: DEFAULT_STEP_TIMEOUT_MS,
          egressUrls: [...config.egress.urls],
          ...(caFile ? { caFile } : {}),
          signal: controller.signal,
        },
        {
          net: this.deps.net,
          clock: this.deps.clock,
          log: this.deps.log,
          identity: config.agent,
          quality: () => this.deps.quality?.(spec.target.name),
        },
      );
      if (query.get('format') === 'html' && this.deps.html)
        return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: this.deps.html(report) };
      return wantsJson
        ? { status: 200, headers: { 'content-type': 'application/json' }, body: renderDiagnosisJson(report) }
        : text(200, renderDiagnosis(report));
    } finally {
      this.running = undefined;
    }
  }

  /** Cancels a running report (shutdown: it answers with what it has) and refuses new ones. */
  stop(): void {
    this.stopped = true;
    this.running?.abort();
  }
}

function text(status: number, body: string): EndpointReply {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body };
}
