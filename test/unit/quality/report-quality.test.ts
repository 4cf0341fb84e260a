import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../../src/checks/check.js';
import { renderDiagnosis } from '../../../src/diagnose/render.js';
import type { DiagnosisReport } from '../../../src/diagnose/report.js';
import { reportQuality } from '../../../src/quality/report-quality.js';

const result = (ok: boolean, fields: Record<string, unknown>): CheckResult => ({
  check: 'diagnose-x',
  kind: 'x',
  target: 'api',
  ip: '192.0.2.1',
  ok,
  error: ok ? null : { code: 'ICMP_NO_REPLY', message: 'no reply', phase: 'ping' },
  startedAt: '2026-12-05T08:00:00.000Z',
  durationMs: 100,
  phasesMs: {},
  ...fields,
});

describe('quality in a diagnose report', () => {
  it("a one-off report's own runs: every figure from the first run", () => {
    const q = reportQuality('api', [
      ['icmp', [result(true, { rttMs: { median: 40 } }), result(false, { rttMs: null })]],
      ['https', [result(true, { phasesMs: { connect: 38, firstByte: 210 } })]],
    ]);
    // Three observations at the same time, weights equal: rate 2/3; transport RTTs 38, 40: the lower.
    expect(q).toMatchObject({
      source: 'report',
      class: 'bad',
      samples: 3,
      estimate: { httpRttMs: 210, transportRttMs: 38, successRate: 2 / 3 },
    });
  });

  it('is one line of the text report', () => {
    const report: DiagnosisReport = {
      time: { utc: 'u', local: 'l' },
      agent: { id: 'a1', region: '', carrier: '', networkType: '', labels: {} },
      egress: { public: [], interfaces: [] },
      targets: [
        {
          target: 'api',
          verdict: 'ok',
          dns: [],
          ping: [],
          traceroute: [],
          https: [],
          quality: {
            source: 'agent',
            class: 'good',
            samples: 42,
            estimate: { httpRttMs: 120.4, transportRttMs: 35.2, successRate: 1, trend: 0 },
          },
        },
      ],
    };
    expect(renderDiagnosis(report)).toContain(
      'Quality: good (HTTP RTT 120 ms, transport RTT 35 ms, success 100 %, trend 0.00; agent window, 42 runs)',
    );
  });
});
