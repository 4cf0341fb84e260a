import { describe, expect, it } from 'vitest';
import type { QualityView } from '../../../src/quality/quality-model.js';
import { score } from '../../../src/ranking/score.js';

const view = (cls: QualityView['class'], http: number | null, transport: number | null, rate: number | null) => ({
  class: cls,
  estimate: { httpRttMs: http, transportRttMs: transport, successRate: rate, trend: 0 },
  samples: 10,
});

describe('score', () => {
  it.each([
    // http: (first byte + connect) / success rate
    ['http', view('good', 30, 10, 1), 40],
    ['http', view('bad', 30, 10, 0.8), 50],
    // icmp: echo RTT / success rate (a run without a reply is a failure: loss)
    ['icmp', view('good', null, 20, 0.5), 40],
    ['icmp', view('good', 999, 20, 1), 20],
  ] as const)('%s %o -> %d ms', (mode, v, ms) => {
    expect(score('t', mode, v).scoreMs).toBeCloseTo(ms, 9);
  });

  it.each([
    ['unknown', view('unknown', 30, 10, 1)],
    ['offline', view('offline', 30, 10, 0)],
    ['no http figure yet', view('good', null, 10, 1)],
    ['no success rate yet', view('good', 30, 10, null)],
  ])('%s: no score', (_, v) => {
    expect(score('t', 'http', v).scoreMs).toBeNull();
  });

  it('never observed: unknown, no score', () => {
    expect(score('t', 'http', undefined)).toEqual({ target: 't', scoreMs: null, successRatio: null, class: 'unknown' });
  });
});
