import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CheckResult, CheckSpec } from '../../src/checks/check.js';
import type { TcpFields } from '../../src/checks/tcp/tcp-settings.js';
import { createLogger } from '../../src/log.js';
import { emitProblem, problemEvent } from '../../src/report/problem-event.js';

const agent = { id: 'a1', region: 'eu-west-1', carrier: 'vodafone', networkType: 'mobile-4g', labels: {} };
const spec: CheckSpec = {
  name: 'web-tcp',
  kind: 'tcp',
  target: { name: 'web', host: 'web.example', group: 'aws', labels: {} },
  schedule: { type: 'interval', intervalMs: 30_000 },
  timeoutMs: 5_000,
  settings: {},
};
const failed: CheckResult<TcpFields> = {
  check: 'web-tcp',
  kind: 'tcp',
  target: 'web',
  ip: '192.0.2.1',
  ok: false,
  error: { code: 'TCP_TIMEOUT', message: 'no answer', phase: 'connect' },
  startedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 5000,
  phasesMs: { resolve: 1, connect: 4999 },
  port: 443,
};

function capture() {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) });
  return { lines, log: createLogger('info', stream as never) };
}

describe('problem events', () => {
  it('carry identity, target, ip, code, hint and the kind fields as evidence', () => {
    const event = problemEvent(agent, spec, failed);
    expect(event).toMatchObject({
      agent,
      check: 'web-tcp',
      kind: 'tcp',
      target: 'web',
      group: 'aws',
      host: 'web.example',
      ip: '192.0.2.1',
      code: 'TCP_TIMEOUT',
      phase: 'connect',
      message: 'no answer',
      startedAt: '2026-01-01T00:00:00.000Z',
      durationMs: 5000,
      evidence: { port: 443, phasesMs: { resolve: 1, connect: 4999 } },
    });
    expect(event?.hint).toMatch(/firewall/);
    expect(event?.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('are absent for a successful result', () => {
    expect(problemEvent(agent, spec, { ...failed, ok: true, error: null })).toBeUndefined();
  });

  it('get a unique id each', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => problemEvent(agent, spec, failed)?.eventId));
    expect(ids.size).toBe(1000);
  });

  it('are one JSON log line with event "problem", secrets redacted', () => {
    const { lines, log } = capture();
    const event = problemEvent(agent, spec, {
      ...failed,
      headers: { authorization: 'Bearer s3cret' },
      password: 'hunter2',
    } as CheckResult);
    emitProblem(log, event!);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 'warn',
      event: 'problem',
      eventId: event?.eventId,
      code: 'TCP_TIMEOUT',
      ip: '192.0.2.1',
    });
    expect(lines[0]).not.toContain('s3cret');
    expect(lines[0]).not.toContain('hunter2');
    expect(lines[0]).toContain('[redacted]');
  });
});
