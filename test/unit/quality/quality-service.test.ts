import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckResult, CheckSpec } from '../../../src/checks/check.js';
import type { AgentIdentity } from '../../../src/config/agent-config.js';
import { MetricRegistries } from '../../../src/metrics/registries.js';
import type { QualityChangeEvent } from '../../../src/quality/quality-event.js';
import { QualityService } from '../../../src/quality/quality-service.js';
import { DEFAULT_QUALITY } from '../../../src/quality/quality-settings.js';
import { parseRecord } from '../../../src/quality/record-line.js';
import type { AgentEvent, EventSink } from '../../../src/report/event-sinks.js';

const identity: AgentIdentity = { id: 'a1', region: 'r', carrier: 'c', networkType: 'fiber', labels: {} };
const dir = mkdtempSync(join(tmpdir(), 'vantage-quality-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A sink that keeps what it is sent. */
class MemorySink implements EventSink {
  readonly name = 'memory';
  readonly events: AgentEvent[] = [];
  send(event: AgentEvent): void {
    this.events.push(event);
  }
  dropped = (): number => 0;
  queued = (): number => 0;
  close = (): Promise<void> => Promise.resolve();
}

const spec = (kind: string, target: string): CheckSpec => ({
  name: `${target}-${kind}`,
  kind,
  target: { name: target, host: '192.0.2.1', group: '', labels: {} },
  schedule: { type: 'interval', intervalMs: 10_000 },
  timeoutMs: 5_000,
  settings: {},
});

/** A result of run `i` (10 s apart), with the kind's RTT fields. */
function result(i: number, ok: boolean, fields: Record<string, unknown>, code = 'TCP_TIMEOUT'): CheckResult {
  return {
    check: 'x',
    kind: 'x',
    target: 'x',
    ip: '192.0.2.1',
    ok,
    error: ok ? null : { code: code as 'TCP_TIMEOUT', message: 'm', phase: 'connect' },
    startedAt: new Date(1_700_000_000_000 + i * 10_000).toISOString(),
    durationMs: 50,
    phasesMs: {},
    ...fields,
  };
}

describe('QualityService', () => {
  it('turns runs into series, change events and the record file; ABORTED runs say nothing', async () => {
    const registries = new MetricRegistries();
    const sink = new MemorySink();
    const service = new QualityService({
      registries,
      log: pino({ level: 'silent' }),
      identity: () => identity,
      sinks: () => [sink],
    });
    const recordFile = join(dir, 'observations.jsonl');
    service.configure({ ...DEFAULT_QUALITY, recordFile: { path: recordFile, maxBytes: 1_048_576, maxFiles: 2 } });
    const https = spec('https', 'web');
    const tcp = spec('tcp', 'db');
    for (let i = 0; i < 5; i++) {
      service.record(https, [result(i, true, { phasesMs: { connect: 20, firstByte: 180 + i } })]);
      service.record(tcp, [result(i, true, { connectMs: 30 })]);
    }
    service.record(tcp, [result(5, false, {}, 'ABORTED')]);
    expect(service.target('web')).toMatchObject({
      class: 'good',
      estimate: { httpRttMs: 182, transportRttMs: 20, successRate: 1, trend: 0 },
      samples: 5,
    });
    expect(service.target('db')?.samples).toBe(5);
    expect(service.target('web')?.ips.get('192.0.2.1')?.class).toBe('good');
    expect(service.agent().class).toBe('good');

    const { body } = await registries.render(false);
    expect(body).toContain('vantage_quality_class{target="web",state="good"} 1');
    expect(body).toContain('vantage_quality_class{target="web",state="bad"} 0');
    expect(body).toContain('vantage_quality_http_rtt_seconds{target="web"} 0.182');
    expect(body).toContain('vantage_quality_transport_rtt_seconds{target="db"} 0.03');
    expect(body).toContain('vantage_quality_class_changes_total{target="db"} 1');
    expect(body).toContain('vantage_agent_quality_class{state="good"} 1');

    const changes = sink.events as QualityChangeEvent[];
    expect(changes.map((e) => [e.target, e.from, e.to])).toEqual([
      ['web', 'unknown', 'good'],
      // Run 4 of web made it Good and the agent with it; db's run 4 came within the second.
      [null, 'unknown', 'good'],
      ['db', 'unknown', 'good'],
    ]);
    expect(new Set(changes.map((e) => e.eventId)).size).toBe(3);
    expect(changes[0]).toMatchObject({ event: 'quality_change', agent: identity, httpRttMs: 182 });

    // The target leaves the config: its series go.
    service.retain(new Set(['web']));
    expect((await registries.render(false)).body).not.toContain('target="db"');

    await service.close();
    const lines = readFileSync(recordFile, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(10);
    expect(parseRecord(lines[0] ?? '', 1, undefined)).toEqual({
      t: 1_700_000_000_050,
      target: 'web',
      ip: '192.0.2.1',
      ok: true,
      httpRttMs: 180,
      transportRttMs: 20,
    });
  });
});
