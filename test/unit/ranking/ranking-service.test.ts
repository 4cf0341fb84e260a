import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { CheckResult, CheckSpec } from '../../../src/checks/check.js';
import type { AgentIdentity } from '../../../src/config/agent-config.js';
import { MetricRegistries } from '../../../src/metrics/registries.js';
import { QualityService } from '../../../src/quality/quality-service.js';
import type { FastestList } from '../../../src/ranking/fastest-list.js';
import { RankingService } from '../../../src/ranking/ranking-service.js';
import type { AgentEvent, EventSink } from '../../../src/report/event-sinks.js';
import { FakeClock } from '../../helpers/fake-clock.js';

const identity: AgentIdentity = { id: 'a1', region: 'cn-north', carrier: 'unicom', networkType: 'fiber', labels: {} };
const T0 = 1_700_000_000_000;

const events: AgentEvent[] = [];
const sink: EventSink = {
  name: 'memory',
  send: (e) => void events.push(e),
  dropped: () => 0,
  queued: () => 0,
  close: () => Promise.resolve(),
};

const spec = (target: string, where: { url: string } | { host: string }): CheckSpec => ({
  name: `${target}-https`,
  kind: 'https',
  target: { name: target, host: '192.0.2.1', ...where, group: '', labels: {} },
  schedule: { type: 'interval', intervalMs: 10_000 },
  timeoutMs: 5_000,
  settings: {},
});

/** Run `i` (10 s apart) from 192.0.2.1: ok with its connect and first-byte times, or a refused connect. */
const run = (i: number, phases?: { connect: number; firstByte: number }): CheckResult => ({
  check: 'x',
  kind: 'https',
  target: 'x',
  ip: '192.0.2.1',
  ok: phases !== undefined,
  error: phases ? null : { code: 'HTTP_CONNECT_FAILED', message: 'refused', phase: 'connect' },
  startedAt: new Date(T0 + i * 10_000).toISOString(),
  durationMs: 50,
  phasesMs: phases ?? {},
});

describe('RankingService', () => {
  it('scores a set from the quality model: series, /fastest, and a new leader to the sinks', async () => {
    const registries = new MetricRegistries();
    const log = pino({ level: 'silent' });
    const quality = new QualityService({ registries, log, identity: () => identity, sinks: () => [sink] });
    const clock = new FakeClock(T0 + 60_000);
    const ranking = new RankingService({
      registries,
      log,
      clock,
      identity: () => identity,
      sinks: () => [sink],
      quality,
    });
    const eu = spec('eu', { url: 'https://eu.example.com/' });
    const us = spec('us', { host: 'us.example.com' });
    const ap = spec('ap', { host: 'ap.example.com' });
    // 5 runs each (min_samples): eu 20 + 180 = 200 ms; us 30 + 270 = 300 ms; ap every connect refused: Offline.
    for (let i = 0; i < 5; i++) {
      quality.record(eu, [run(i, { connect: 20, firstByte: 180 })]);
      quality.record(us, [run(i, { connect: 30, firstByte: 270 })]);
      quality.record(ap, [run(i)]);
    }
    ranking.configure(
      [{ name: 'api', targets: ['us', 'eu', 'ap'], mode: 'http', margin: 0.1, holdMs: 60_000 }],
      [eu, us, ap],
    );
    ranking.start();

    const reply = ranking.reply(new URLSearchParams('set=api'));
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body) as FastestList).toEqual({
      set: 'api',
      agent: 'a1',
      region: 'cn-north',
      carrier: 'unicom',
      network_type: 'fiber',
      generatedAt: new Date(T0 + 60_000).toISOString(),
      endpoints: [
        {
          target: 'eu',
          url: 'https://eu.example.com/',
          addresses: ['192.0.2.1'],
          scoreMs: 200,
          successRatio: 1,
          class: 'good',
          rank: 1,
        },
        {
          target: 'us',
          host: 'us.example.com',
          addresses: ['192.0.2.1'],
          scoreMs: 300,
          successRatio: 1,
          class: 'good',
          rank: 2,
        },
        {
          target: 'ap',
          host: 'ap.example.com',
          addresses: ['192.0.2.1'],
          scoreMs: null,
          successRatio: 0,
          class: 'offline',
          rank: null,
        },
      ],
    });
    expect(events.filter((e) => e.event === 'leader_change')).toMatchObject([
      { set: 'api', from: null, to: 'eu', fromScoreMs: null, toScoreMs: 200, agent: identity },
    ]);
    const series = async (): Promise<string[]> =>
      (await registries.render(false)).body.split('\n').filter((l) => l.startsWith('vantage_endpoint_'));
    expect(await series()).toEqual([
      'vantage_endpoint_score_seconds{set="api",target="eu"} 0.2',
      'vantage_endpoint_score_seconds{set="api",target="us"} 0.3',
      'vantage_endpoint_rank{set="api",target="eu"} 1',
      'vantage_endpoint_rank{set="api",target="us"} 2',
      'vantage_endpoint_leader_changes_total{set="api"} 1',
    ]);

    // Evaluated every second: the same figures change nothing.
    await clock.advance(5_000);
    expect(events.filter((e) => e.event === 'leader_change')).toHaveLength(1);
    expect(JSON.parse(ranking.reply(new URLSearchParams('set=api')).body)).toMatchObject({
      generatedAt: new Date(T0 + 65_000).toISOString(),
    });

    expect(ranking.reply(new URLSearchParams(''))).toMatchObject({ status: 400 });
    expect(ranking.reply(new URLSearchParams('set=web'))).toMatchObject({
      status: 404,
      body: '{"error":"no server set \\"web\\"","sets":["api"]}\n',
    });

    // The set leaves the config: its series go.
    ranking.configure([], [eu, us, ap]);
    expect(await series()).toEqual([]);
    ranking.stop();
    expect(clock.pendingTimers()).toBe(0);
  });
});
