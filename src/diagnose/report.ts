// What a diagnosis report holds: the model `vantage diagnose` and GET /diagnose fill and render.
import type { CheckResult } from '../checks/check.js';
import type { DnsFields } from '../checks/dns/dns-settings.js';
import type { HttpsFields } from '../checks/https/https-settings.js';
import type { IcmpFields } from '../checks/icmp/icmp-settings.js';
import type { TracerouteFields } from '../checks/traceroute/traceroute-settings.js';
import type { AgentIdentity } from '../config/agent-config.js';
import type { EgressAnswer } from '../net/egress-lookup.js';
import type { ReportQuality } from '../quality/report-quality.js';

export interface TargetDiagnosis {
  target: string;
  verdict: string;
  dns: CheckResult<DnsFields>[];
  ping: CheckResult<IcmpFields>[];
  traceroute: CheckResult<TracerouteFields>[];
  https: CheckResult<HttpsFields>[];
  /** Network quality: the agent's window (`/diagnose`), or this report's own runs (`vantage diagnose`). */
  quality?: ReportQuality;
}

export interface DiagnosisReport {
  time: { utc: string; local: string };
  agent: AgentIdentity;
  egress: { public: EgressAnswer[]; interfaces: Array<{ name: string; address: string }> };
  targets: TargetDiagnosis[];
}
