import { formatDuration } from '../../settings/duration.js';
import { stripBrackets } from '../../net/address.js';
import { defineKind, sample } from '../check.js';
import type { KindMetric, ProbeTarget, SettingsProblem, TargetSpec } from '../check.js';
import { icmpSettingsSchema } from './icmp-settings.js';
import type { IcmpFields, IcmpSettings } from './icmp-settings.js';
import { PingCheck } from './ping-check.js';

/** Smokeping-like RTT buckets: from 100 µs (loopback, same rack) to 5 s (satellite, congestion). */
const RTT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const seconds = (ms: number | undefined | null): number | undefined =>
  ms === undefined || ms === null ? undefined : ms / 1000;

const metrics: KindMetric<IcmpFields>[] = [
  {
    name: 'probe_icmp_packets_sent_total',
    type: 'counter',
    help: 'Echo requests sent.',
    samples: (r) => sample(r.sent),
  },
  {
    name: 'probe_icmp_packets_received_total',
    type: 'counter',
    help: 'Echo replies received (duplicates not counted).',
    samples: (r) => sample(r.received),
  },
  {
    name: 'probe_icmp_duplicate_replies_total',
    type: 'counter',
    help: 'Extra replies to an already answered request (the series appears with the first one).',
    occasional: true,
    // Rare: written only when a run saw one, so a healthy IP does not pay a series for it.
    samples: (r) => sample(r.duplicates ? r.duplicates : undefined),
  },
  {
    name: 'probe_icmp_other_address_replies_total',
    type: 'counter',
    help:
      "Echo replies to this IP's requests that came from another address (NAT, anycast, a misrouted responder); " +
      'not in received (the series appears with the first one).',
    occasional: true,
    samples: (r) => sample(r.otherAddressReplies?.length ? r.otherAddressReplies.length : undefined),
  },
  {
    name: 'probe_icmp_rtt_seconds',
    type: 'histogram',
    buckets: RTT_BUCKETS,
    help: "Every reply's round-trip time (kernel receive stamp), seconds (checks with histograms: true).",
    samples: (r) => (r.rttsMs ?? []).map((ms) => ({ value: ms / 1000 })),
  },
  {
    name: 'probe_icmp_rtt_avg_seconds',
    type: 'gauge',
    help: 'Mean round-trip time of the last run.',
    samples: (r) => sample(seconds(r.rttMs?.avg)),
  },
  {
    name: 'probe_icmp_rtt_stddev_seconds',
    type: 'gauge',
    help: "Standard deviation (jitter) of the last run's round-trip times.",
    samples: (r) => sample(seconds(r.rttMs?.stddev)),
  },
  {
    name: 'probe_icmp_loss_ratio',
    type: 'gauge',
    help: "Fraction of the last run's requests without a reply.",
    samples: (r) => sample(r.loss),
  },
  {
    name: 'probe_icmp_reply_hop_limit',
    type: 'gauge',
    help: 'TTL / hop limit of the last reply (blackbox-compatible).',
    samples: (r) => sample(r.replyTtl),
  },
];

export const icmpKind = defineKind({
  kind: 'icmp',
  summary: 'ICMP echo (ping) to every resolved IP over one shared raw socket, kernel-timestamped RTT',
  settings: icmpSettingsSchema,
  phases: ['resolve', 'ping'],
  metrics,
  needs: ['raw-icmp'],

  checkSettings(_target: TargetSpec, s: IcmpSettings, timeoutMs: number): SettingsProblem[] {
    const spacing = s.spacing;
    const wait = s.packet_timeout;
    const needed = (s.count - 1) * spacing + wait;
    if (needed < timeoutMs) return [];
    return [
      {
        path: ['count'],
        message:
          `${s.count} requests ${formatDuration(spacing)} apart plus a ${formatDuration(wait)} ` +
          `packet_timeout take ${formatDuration(needed)}: more than the run timeout (${formatDuration(timeoutMs)}); ` +
          'lower count, spacing or packet_timeout, or raise timeout',
      },
    ];
  },

  silentIp: (result) => result.error?.code === 'ICMP_NO_REPLY',

  parseProbeTarget(arg: string): ProbeTarget {
    return { host: stripBrackets(arg), settings: {} };
  },

  create(spec, net) {
    return new PingCheck(spec, net);
  },
});
