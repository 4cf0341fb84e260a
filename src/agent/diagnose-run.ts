import { isIP } from 'node:net';
import type { CheckKind, CheckResult, CheckSpec } from '../checks/check.js';
import { dnsKind } from '../checks/dns/index.js';
import { httpsKind } from '../checks/https/index.js';
import { icmpKind } from '../checks/icmp/index.js';
import { tracerouteKind } from '../checks/traceroute/index.js';
import { runCheck } from './run-check.js';
import type { Clock } from '../clock.js';
import type { AgentIdentity, TriggeredTracerouteConfig } from '../config/agent-config.js';
import { DEFAULT_TRIGGERED_TRACEROUTE } from '../config/agent-config.js';
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { AddressBook } from '../net/address-book.js';
import type { NetDeps } from '../net/net-deps.js';
import { runDeadline } from '../schedule/run-deadline.js';
import { TraceTrigger } from './triggered-trace.js';
import { askEgress, interfaceAddresses } from '../net/egress-lookup.js';
import type { DiagnosisReport, TargetDiagnosis } from '../diagnose/report.js';
import { verdict } from '../diagnose/verdict.js';
import { stripBrackets } from '../net/address.js';
import type { QualityView } from '../quality/quality-model.js';
import { reportQuality } from '../quality/report-quality.js';

/** Each step's deadline unless told otherwise (`--timeout`). */
export const DEFAULT_STEP_TIMEOUT_MS = 10_000;

export interface DiagnoseOptions {
  /** Resolvers asked besides the system resolver (resolver specs, as in the dns kind). */
  resolvers: string[];
  /** Echo requests per IP. */
  count: number;
  /** auto: the triggered-traceroute rule; always: trace the first IP; never. */
  traceroute: 'auto' | 'always' | 'never';
  /** Deadline of each step. */
  timeoutMs: number;
  /** URLs that answer with the caller's public IP (e.g. https://checkip.amazonaws.com). */
  egressUrls: string[];
  /** Extra CA file for HTTPS targets (private CAs). */
  caFile?: string;
  signal: AbortSignal;
  onProgress?: (step: string) => void;
}

export interface DiagnoseDeps {
  net: NetDeps;
  clock: Clock;
  log: Logger;
  identity: AgentIdentity;
  /** The running agent's quality view of a target; absent (or no view): the report's own runs say. */
  quality?: (target: string) => QualityView | undefined;
}

/**
 * `vantage diagnose`: what support needs when "users can't reach the servers": per target, DNS
 * through the system resolver and the given ones (hijack checks on), ping to every IP, the
 * triggered traceroute by the usual rule, HTTPS phases for URLs; plus who and where this agent is.
 */
export async function diagnose(
  targets: readonly string[],
  opts: DiagnoseOptions,
  deps: DiagnoseDeps,
): Promise<DiagnosisReport> {
  const now = new Date(deps.clock.wallMs());
  const trigger: TriggeredTracerouteConfig = {
    ...DEFAULT_TRIGGERED_TRACEROUTE,
    enabled: opts.traceroute === 'auto',
    minIntervalMs: 0,
  };
  const traces = new TraceTrigger(deps.net.icmp, deps.clock, trigger);
  // The report's own address book: its dns steps feed its ping and traceroute, never the agent's
  // checks of a target with the same name.
  const net: NetDeps = { ...deps.net, addressBook: new AddressBook(() => deps.clock.wallMs()) };
  // Not CheckExecutor: a report's failures are findings in the report, not problem events.
  const run = async <S extends object, F extends object>(
    kind: CheckKind<S, F>,
    target: string,
    host: string,
    url: string | undefined,
    settings: Record<string, unknown>,
  ): Promise<CheckResult<F>[]> => {
    const spec = makeSpec(kind, target, host, url, settings, opts.timeoutMs);
    const { controller, release } = runDeadline(deps.clock, opts.timeoutMs, opts.signal);
    try {
      const results = await runCheck(kind.create(spec, net), {
        signal: controller.signal,
        clock: deps.clock,
        log: deps.log,
      });
      await traces.attach(kind, results, controller.signal);
      return results;
    } finally {
      release();
    }
  };

  // The adapters' warm-up first, so each step's deadline is its own.
  await deps.net.ready?.();
  const egress = diagnoseEgress(opts);
  const reports: TargetDiagnosis[] = [];
  for (const raw of targets) {
    if (opts.signal.aborted) break;
    const url = /^[a-z]+:\/\//i.test(raw) ? new URL(raw) : undefined;
    const host = stripBrackets(url?.hostname ?? raw);
    const report: TargetDiagnosis = { target: raw, verdict: '', dns: [], ping: [], traceroute: [], https: [] };
    if (isIP(host) === 0) {
      opts.onProgress?.(`${raw}: DNS`);
      const resolver = ['system', ...opts.resolvers];
      const hijack = { reference: 'system', nxdomain_probe: true };
      report.dns.push(...(await run(dnsKind, raw, host, undefined, { resolver, type: 'A', hijack })));
      report.dns.push(
        ...(await run(dnsKind, raw, host, undefined, { resolver, type: 'AAAA', hijack, min_answers: 0 })),
      );
    }
    if (!opts.signal.aborted) {
      opts.onProgress?.(`${raw}: ping${opts.traceroute === 'auto' ? ' (and traceroute of silent IPs)' : ''}`);
      report.ping = await run(icmpKind, raw, host, undefined, {
        count: opts.count,
        spacing: '100ms',
        packet_timeout: '1s',
      });
    }
    if (!opts.signal.aborted && opts.traceroute === 'always') {
      opts.onProgress?.(`${raw}: traceroute`);
      report.traceroute = await run(tracerouteKind, raw, host, undefined, { ips: 1, probe_timeout: '1s' });
    }
    if (!opts.signal.aborted && url) {
      opts.onProgress?.(`${raw}: HTTPS`);
      report.https = await run(httpsKind, raw, host, url.href, {
        accept_status: ['200-499'],
        ...(opts.caFile ? { ca_file: opts.caFile } : {}),
      });
    }
    report.verdict = verdict(report.dns, report.ping, report.https);
    const known = deps.quality?.(raw);
    report.quality = known
      ? { ...known, source: 'agent' }
      : reportQuality(raw, [
          ['icmp', report.ping],
          ['https', report.https],
        ]);
    reports.push(report);
  }
  return {
    time: { utc: now.toISOString(), local: now.toString() },
    agent: deps.identity,
    egress: await egress,
    targets: reports,
  };
}

function makeSpec<S extends object, F extends object>(
  kind: CheckKind<S, F>,
  target: string,
  host: string,
  url: string | undefined,
  raw: Record<string, unknown>,
  timeoutMs: number,
): CheckSpec<S> {
  const parsed = kind.parseSettings(raw);
  if (!parsed.success)
    throw new UsageError(
      `${kind.kind}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return {
    name: `diagnose-${kind.kind}`,
    kind: kind.kind,
    target: { name: target, host, ...(url ? { url } : {}), group: '', labels: {} },
    schedule: { type: 'interval', intervalMs: 86_400_000 },
    timeoutMs,
    settings: parsed.data,
  };
}

/** The agent's addresses: what echo services see (its public egress IP) and its interfaces. */
async function diagnoseEgress(opts: DiagnoseOptions): Promise<DiagnosisReport['egress']> {
  return { public: await askEgress(opts.egressUrls, opts.timeoutMs, opts.signal), interfaces: interfaceAddresses() };
}
