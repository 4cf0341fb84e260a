import { defineKind, sample } from '../check.js';
import type { KindMetric, ProbeTarget } from '../check.js';
import { HttpsCheck } from './https-check.js';
import { httpsSettingsSchema } from './https-settings.js';
import type { HttpsFields } from './https-settings.js';
import { stripBrackets } from '../../net/address.js';
import { keyPairProblem } from '../../settings/pem-file.js';

const PHASE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const TIMED_PHASES = ['dns', 'connect', 'tls', 'request', 'firstByte', 'headers', 'transfer'];

const metrics: KindMetric<HttpsFields>[] = [
  {
    name: 'probe_http_status_code',
    type: 'gauge',
    help: 'Final HTTP status code (0 without a response; blackbox-compatible).',
    samples: (r) => sample(r.status),
  },
  {
    name: 'probe_http_version',
    type: 'gauge',
    help: 'HTTP version of the final response (1.1 or 2; blackbox-compatible).',
    samples: (r) => sample(r.httpVersion ? Number(r.httpVersion) : undefined),
  },
  {
    name: 'probe_http_content_length',
    type: 'gauge',
    help: 'Body bytes of the final response (blackbox-compatible name).',
    samples: (r) => sample(r.contentLength),
  },
  {
    name: 'probe_http_redirects',
    type: 'gauge',
    help: 'Redirects followed (blackbox-compatible).',
    samples: (r) => sample(r.redirects?.length),
  },
  {
    name: 'probe_ssl_earliest_cert_expiry',
    type: 'gauge',
    help: 'Unix time of the earliest notAfter in the presented chain (blackbox-compatible).',
    samples: (r) => sample(r.tls?.certNotAfter ? Date.parse(r.tls.certNotAfter) / 1000 : undefined),
  },
  {
    name: 'probe_tls_version_info',
    type: 'gauge',
    help: 'Always 1; the TLS version negotiated (blackbox-compatible).',
    label: 'version',
    samples: (r) => (r.tls?.version ? [{ label: r.tls.version, value: 1 }] : []),
  },
  {
    name: 'probe_tls_cert_authorized',
    type: 'gauge',
    help: 'Whether the chain verified and matched the host name (1) or not (0).',
    samples: (r) => sample(r.tls ? (r.tls.authorized ? 1 : 0) : undefined),
  },
  {
    name: 'probe_http_phase_seconds',
    type: 'histogram',
    buckets: PHASE_BUCKETS,
    help: "Distribution of each phase's duration, seconds.",
    label: 'phase',
    samples: (r) =>
      TIMED_PHASES.flatMap((phase) => {
        const ms = r.phasesMs[phase];
        return ms === undefined ? [] : [{ label: phase, value: ms / 1000 }];
      }),
  },
];

export const httpsKind = defineKind({
  kind: 'https',
  summary:
    'HTTP(S) request per resolved IP with exact phases (first byte at the first socket read), TLS facts, redirects',
  settings: httpsSettingsSchema,
  phases: ['dns', 'connect', 'tls', 'request', 'firstByte', 'headers', 'transfer', 'total'],
  phaseMetricName: 'probe_http_duration_seconds',
  metrics,
  checkSettings: (_target, s) => {
    if ((s.client_cert_file === undefined) !== (s.client_key_file === undefined))
      return [{ path: ['client_cert_file'], message: 'give client_cert_file and client_key_file together' }];
    const mismatch = s.client_cert_file && s.client_key_file && keyPairProblem(s.client_cert_file, s.client_key_file);
    return mismatch ? [{ path: ['client_key_file'], message: mismatch }] : [];
  },
  silentIp: (result) => result.error?.code === 'HTTP_TIMEOUT' && result.error.phase === 'connect',
  parseProbeTarget(arg: string): ProbeTarget {
    const url = new URL(/^[a-z]+:\/\//i.test(arg) ? arg : `https://${arg}`);
    return { host: stripBrackets(url.hostname), url: url.href, settings: {} };
  },
  create(spec, net) {
    return new HttpsCheck(spec, net);
  },
});
