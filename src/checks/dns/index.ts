import { defineKind, sample } from '../check.js';
import type { KindMetric, ProbeTarget, SettingsProblem, TargetSpec } from '../check.js';
import { DnsCheck } from './dns-check.js';
import { dnsSettingsSchema } from './dns-settings.js';
import type { DnsFields, DnsSettings } from './dns-settings.js';

const metrics: KindMetric<DnsFields>[] = [
  {
    name: 'probe_dns_lookup_time_seconds',
    type: 'gauge',
    help: 'Time of the last query to this resolver, seconds (blackbox-compatible).',
    samples: (r) => sample(r.durationMs / 1000),
  },
  {
    name: 'probe_dns_answer_rrs',
    type: 'gauge',
    help: 'Records in the answer section (blackbox-compatible).',
    samples: (r) => sample(r.answers?.length),
  },
  {
    name: 'probe_dns_authority_rrs',
    type: 'gauge',
    help: 'Records in the authority section (blackbox-compatible).',
    samples: (r) => sample(r.authorityCount),
  },
  {
    name: 'probe_dns_additional_rrs',
    type: 'gauge',
    help: 'Records in the additional section, OPT aside (blackbox-compatible).',
    samples: (r) => sample(r.additionalCount),
  },
  {
    name: 'probe_dns_min_ttl_seconds',
    type: 'gauge',
    help: 'Smallest TTL among the answers: how soon a change can reach clients.',
    samples: (r) =>
      sample(
        r.answers && r.answers.length > 0 && r.transport !== 'system'
          ? Math.min(...r.answers.map((a) => a.ttl))
          : undefined,
      ),
  },
  {
    name: 'probe_dns_responses_total',
    type: 'counter',
    help: 'Answers by response code.',
    label: 'rcode',
    samples: (r) => (r.rcode ? [{ label: r.rcode, value: 1 }] : []),
  },
  {
    name: 'probe_dns_hijacked',
    type: 'gauge',
    help: 'Whether the last answer of this resolver looked hijacked (1) or not (0).',
    samples: (r) => sample(r.rcode ? (r.hijack ? 1 : 0) : undefined),
  },
  {
    name: 'probe_dns_hijack',
    type: 'gauge',
    help: 'Set to 1 for the reason the last answer looked hijacked (absent when it did not).',
    label: 'reason',
    occasional: true,
    samples: (r) => (r.hijack ? [{ label: r.hijack.reason, value: 1 }] : []),
  },
  {
    name: 'probe_dns_answer_set_changes_total',
    type: 'counter',
    help: 'Answers whose set differed from the previous answer of the same resolver.',
    samples: (r) => sample(r.answersChanged ? 1 : 0),
  },
];

export const dnsKind = defineKind({
  kind: 'dns',
  summary: 'DNS query through the system resolver and any UDP/TCP/DoT/DoH resolver, with hijack detection',
  settings: dnsSettingsSchema,
  phases: ['resolve', 'connect', 'tls', 'udp', 'request'],
  metrics,
  needs: ['addresses-first'],

  checkSettings(_target: TargetSpec, s: DnsSettings): SettingsProblem[] {
    if (s.resolver.includes('system') && s.type !== 'A' && s.type !== 'AAAA') {
      return [
        {
          path: ['resolver'],
          message: `the system resolver answers only A and AAAA queries; ask a server for ${s.type}`,
        },
      ];
    }
    return [];
  },

  parseProbeTarget(arg: string): ProbeTarget {
    return { host: arg.replace(/\.$/, ''), settings: {} };
  },

  create(spec, net) {
    return new DnsCheck(spec, net);
  },
});
