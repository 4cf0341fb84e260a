import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defineKind, sample } from '../../src/checks/check.js';
import type { Check, CheckResult, CheckSpec } from '../../src/checks/check.js';
import { builtinRegistry } from '../../src/checks/registry.js';
import { catalogue, renderCatalogue } from '../../src/metrics/catalogue.js';
import { COUNTER_RETENTION_MS, ProbeRecorder } from '../../src/metrics/probe-recorder.js';
import { MetricRegistries } from '../../src/metrics/registries.js';
import { AgentMetrics } from '../../src/metrics/agent-metrics.js';

const GOLDEN = new URL('../golden/metrics-catalogue.txt', import.meta.url);

describe('metric catalogue', () => {
  it('matches the golden file (UPDATE_GOLDEN=1 rewrites it after a deliberate change)', () => {
    const text = renderCatalogue(catalogue(builtinRegistry().kinds()));
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, text);
    expect(text).toBe(readFileSync(GOLDEN, 'utf8'));
  });

  it('uses base units and Prometheus naming', () => {
    for (const def of catalogue(builtinRegistry().kinds())) {
      expect(def.name).toMatch(/^[a-z_][a-z0-9_]*$/);
      if (def.type === 'counter') expect(def.name).toMatch(/_total$/);
      expect(def.name).not.toMatch(/_(ms|milliseconds|minutes)$/);
      for (const label of def.labels) expect(label).toMatch(/^[a-z_]+$/);
    }
  });
});

/** A kind with one own metric, to exercise the kind-metric path without a network. */
const fakeKind = defineKind({
  kind: 'fake',
  summary: 'test kind',
  settings: builtinRegistry().get('tcp')!.settings,
  phases: ['resolve', 'probe'],
  metrics: [
    {
      name: 'probe_fake_rtt_seconds',
      type: 'gauge',
      help: 'RTT.',
      samples: (r: CheckResult<{ rttMs: number }>) => sample(r.rttMs === undefined ? undefined : r.rttMs / 1000),
    },
  ],
  parseProbeTarget: (arg) => ({ host: arg, settings: {} }),
  create: (): Check<{ rttMs: number }> => {
    throw new Error('not used');
  },
});

const spec: CheckSpec = {
  name: 'web-fake',
  kind: 'fake',
  target: { name: 'web', host: 'web.example', group: 'g', labels: {} },
  schedule: { type: 'interval', intervalMs: 1000 },
  timeoutMs: 500,
  settings: {},
};

function result(ip: string | undefined, ok: boolean, extra: Partial<CheckResult> = {}): CheckResult {
  return {
    check: spec.name,
    kind: 'fake',
    target: 'web',
    ...(ip ? { ip } : {}),
    ok,
    error: ok ? null : { code: 'TCP_REFUSED', message: 'refused', phase: 'probe' },
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 12.5,
    phasesMs: { resolve: 2.5, probe: 10 },
    ...extra,
  };
}

async function samples(registries: MetricRegistries, name: string): Promise<string[]> {
  const { body } = await registries.render(false);
  return body.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe('ProbeRecorder', () => {
  it('writes success, durations in seconds, phases, counters and kind metrics per IP', async () => {
    const registries = new MetricRegistries({ processMetrics: false });
    registries.setDefaultLabels({ agent: 'a1', region: 'eu', carrier: 'c', network_type: 'fiber' });
    const recorder = new ProbeRecorder(registries, [fakeKind]);
    recorder.record(spec, [
      result('192.0.2.1', true, { rttMs: 7 } as Partial<CheckResult>),
      result('2001:db8::1', false),
    ]);
    const base = 'check="web-fake",kind="fake",target="web"';
    const ids = 'agent="a1",region="eu",carrier="c",network_type="fiber"';
    expect(await samples(registries, 'probe_success')).toEqual([
      `probe_success{${base},ip="192.0.2.1",${ids}} 1`,
      `probe_success{${base},ip="2001:db8::1",${ids}} 0`,
    ]);
    expect(await samples(registries, 'probe_duration_seconds')).toContain(
      `probe_duration_seconds{${base},ip="192.0.2.1",${ids}} 0.0125`,
    );
    expect(await samples(registries, 'probe_fake_duration_seconds')).toContain(
      `probe_fake_duration_seconds{${base},ip="192.0.2.1",phase="probe",${ids}} 0.01`,
    );
    expect(await samples(registries, 'probe_fake_rtt_seconds')).toEqual([
      `probe_fake_rtt_seconds{${base},ip="192.0.2.1",${ids}} 0.007`,
    ]);
    expect(await samples(registries, 'vantage_check_failures_total')).toEqual([
      `vantage_check_failures_total{${base},ip="2001:db8::1",code="TCP_REFUSED",${ids}} 1`,
    ]);
  });

  it('writes histograms only for checks that ask for them (a series per bucket per IP)', async () => {
    const registries = new MetricRegistries({ processMetrics: false });
    const recorder = new ProbeRecorder(registries, [fakeKind]);
    recorder.record(spec, [result('192.0.2.1', true)]);
    expect(await samples(registries, 'vantage_probe_duration_seconds_count')).toEqual([]);
    recorder.record({ ...spec, name: 'web-fake-h', histograms: true }, [result('192.0.2.1', true)]);
    expect(await samples(registries, 'vantage_probe_duration_seconds_count')).toEqual([
      'vantage_probe_duration_seconds_count{check="web-fake-h",kind="fake",target="web",ip="192.0.2.1"} 1',
    ]);
    const buckets = await samples(registries, 'vantage_probe_duration_seconds_bucket');
    expect(buckets.length).toBeGreaterThan(1);
    expect(buckets.every((l) => l.includes('check="web-fake-h"'))).toBe(true);
  });

  it('drops gauges of an IP that left the answers at once, its counters only after the retention', async () => {
    const registries = new MetricRegistries({ processMetrics: false });
    const recorder = new ProbeRecorder(registries, [fakeKind]);
    const at = (minutes: number) => ({ startedAt: new Date(Date.UTC(2026, 0, 1, 0, minutes)).toISOString() });
    recorder.record(spec, [result('192.0.2.1', false, at(0)), result('192.0.2.2', true, at(0))]);
    recorder.record(spec, [result('192.0.2.1', true, at(1))]);
    expect(await samples(registries, 'probe_success')).toEqual([
      `probe_success{check="web-fake",kind="fake",target="web",ip="192.0.2.1"} 1`,
    ]);
    expect(await samples(registries, 'vantage_check_runs_total')).toEqual([
      'vantage_check_runs_total{check="web-fake",kind="fake",target="web",ip="192.0.2.1",result="failure"} 1',
      'vantage_check_runs_total{check="web-fake",kind="fake",target="web",ip="192.0.2.2",result="success"} 1',
      'vantage_check_runs_total{check="web-fake",kind="fake",target="web",ip="192.0.2.1",result="success"} 1',
    ]);
    recorder.record(spec, [result('192.0.2.1', true, at(1 + COUNTER_RETENTION_MS / 60_000 + 1))]);
    const runs = await samples(registries, 'vantage_check_runs_total');
    expect(runs.some((l) => l.includes('192.0.2.2'))).toBe(false);
    expect(runs.some((l) => l.includes('ip="192.0.2.1",result="success"} 2'))).toBe(true);
  });

  it('keeps per-IP counters through a run that failed before any IP (a DNS failure)', async () => {
    const registries = new MetricRegistries({ processMetrics: false });
    const recorder = new ProbeRecorder(registries, [fakeKind]);
    recorder.record(spec, [result('192.0.2.1', true)]);
    recorder.record(spec, [result(undefined, false)]);
    recorder.record(spec, [result('192.0.2.1', true)]);
    expect(await samples(registries, 'vantage_check_runs_total')).toEqual([
      'vantage_check_runs_total{check="web-fake",kind="fake",target="web",ip="192.0.2.1",result="success"} 2',
      'vantage_check_runs_total{check="web-fake",kind="fake",target="web",ip="",result="failure"} 1',
    ]);
    expect(await samples(registries, 'vantage_check_failures_total')).toEqual([
      'vantage_check_failures_total{check="web-fake",kind="fake",target="web",ip="",code="TCP_REFUSED"} 1',
    ]);
    expect(await samples(registries, 'probe_success')).toEqual([
      `probe_success{check="web-fake",kind="fake",target="web",ip="192.0.2.1"} 1`,
    ]);
  });

  it('forget removes every series of the check and nothing else', async () => {
    const registries = new MetricRegistries({ processMetrics: false });
    const recorder = new ProbeRecorder(registries, [fakeKind]);
    const other = { ...spec, name: 'other' };
    recorder.record(spec, [result('192.0.2.1', false)]);
    recorder.record(other, [{ ...result('192.0.2.9', true), check: 'other' }]);
    recorder.forget('web-fake');
    const { body } = await registries.render(false);
    expect(body).not.toContain('check="web-fake"');
    expect(body).toContain('check="other"');
  });

  it('serves OpenMetrics with the same series', async () => {
    const registries = new MetricRegistries({ processMetrics: false });
    const recorder = new ProbeRecorder(registries, [fakeKind]);
    recorder.record(spec, [result('192.0.2.1', true)]);
    const om = await registries.render(true);
    expect(om.contentType).toMatch(/application\/openmetrics-text/);
    expect(om.body).toContain('probe_success{check="web-fake",kind="fake",target="web",ip="192.0.2.1"} 1');
    expect(om.body.trimEnd().endsWith('# EOF')).toBe(true);
  });
});

describe('AgentMetrics target info', () => {
  it('counts the runs in flight at each scrape', async () => {
    const registries = new MetricRegistries({ processMetrics: false });
    const metrics = new AgentMetrics(registries, { version: '1.2.3' });
    expect(await samples(registries, 'vantage_runs_in_flight')).toEqual(['vantage_runs_in_flight 0']);
    metrics.runStarted();
    metrics.runStarted();
    metrics.runEnded();
    expect(await samples(registries, 'vantage_runs_in_flight')).toEqual(['vantage_runs_in_flight 1']);
  });

  it('carries each target with the union of target label names, re-created when they change', async () => {
    const registries = new MetricRegistries({ processMetrics: false });
    const metrics = new AgentMetrics(registries, { version: '1.2.3' });
    metrics.setTargets([
      { name: 'a', host: 'a', group: 'aws', labels: { service: 'api' } },
      { name: 'b', host: 'b', group: '', labels: {} },
    ]);
    expect(await samples(registries, 'vantage_target_info')).toEqual([
      'vantage_target_info{target="a",group="aws",service="api"} 1',
      'vantage_target_info{target="b",group="",service=""} 1',
    ]);
    metrics.setTargets([{ name: 'c', host: 'c', group: '', labels: { tier: '1' } }]);
    expect(await samples(registries, 'vantage_target_info')).toEqual([
      'vantage_target_info{target="c",group="",tier="1"} 1',
    ]);
    expect((await samples(registries, 'vantage_build_info'))[0]).toMatch(/version="1.2.3",node_version="v\d+/);
  });
});

describe('MetricRegistries scrape', () => {
  it("writes prom-client's part as its metrics() does, letting the event loop run between its metrics", async () => {
    const registries = new MetricRegistries({ processMetrics: false, sliceMs: 0, restMs: 0 });
    const gauge = registries.gauge({ name: 'own_gauge', help: 'g', type: 'gauge', labels: ['a'] });
    gauge.set({ a: 'x' }, 1.5);
    registries.counter({ name: 'own_total', help: 'c', type: 'counter', labels: [] }).inc(2);
    registries.histogram({ name: 'own_seconds', help: 'h', type: 'histogram', labels: [], buckets: [1] }).observe(0.5);
    registries.setDefaultLabels({ agent: 'a1' });

    let turns = 0;
    let counting = true;
    const count = (): void => {
      if (!counting) return;
      turns++;
      setImmediate(count);
    };
    setImmediate(count);
    const { body } = await registries.render(false);
    counting = false;
    expect(body).toBe(await registries.registry.metrics());
    // A slice of 0 ms is used up before each metric: the loop gets a turn before each of the three.
    expect(turns).toBeGreaterThanOrEqual(3);
  });
});
