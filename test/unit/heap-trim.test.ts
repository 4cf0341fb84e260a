import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { HeapTrim } from '../../src/agent/heap-trim.js';
import { CheckRegistry } from '../../src/checks/registry.js';
import { tcpKind } from '../../src/checks/tcp/index.js';
import { createLogger } from '../../src/log.js';
import { tempConfig } from '../helpers/agent-process.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { fakeNet } from '../helpers/fake-net.js';

const noReason = (): void => {
  throw new Error('unavailable() called with the addon there');
};

/** A HeapTrim whose V8 notifications are noted as level@ms since the start. */
function setup(): { clock: FakeClock; trim: HeapTrim; calls: string[]; counted: () => number } {
  const clock = new FakeClock();
  const start = clock.wallMs();
  const calls: string[] = [];
  let count = 0;
  const trim = new HeapTrim(
    clock,
    {
      moderate: () => calls.push(`moderate@${clock.wallMs() - start}`),
      critical: () => calls.push(`critical@${clock.wallMs() - start}`),
    },
    { trimmed: () => count++, unavailable: noReason },
  );
  return { clock, trim, calls, counted: () => count };
}

describe('HeapTrim', () => {
  it('trims at once (critical) when started, then every interval (moderate), and counts each', async () => {
    const { clock, trim, calls, counted } = setup();
    trim.configure({ enabled: true, intervalMs: 300_000 });
    expect(trim.started()).toBe(0);
    await clock.advance(300_000 - 1);
    expect(calls).toEqual(['critical@0']);
    await clock.advance(300_001);
    expect(calls).toEqual(['critical@0', 'moderate@300000', 'moderate@600000']);
    expect(counted()).toBe(3);
  });

  it('never trims when disabled, and stops when a reload disables it', async () => {
    const { clock, trim, calls } = setup();
    trim.configure({ enabled: false, intervalMs: 300_000 });
    expect(trim.started()).toBeUndefined();
    await clock.advance(1_000_000);
    expect(calls).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);

    trim.configure({ enabled: true, intervalMs: 300_000 });
    await clock.advance(300_000);
    trim.configure({ enabled: false, intervalMs: 300_000 });
    await clock.advance(1_000_000);
    expect(calls).toEqual(['moderate@1300000']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('keeps its timing across an unchanged reload; a new interval counts from the reload', async () => {
    const { clock, trim, calls } = setup();
    trim.configure({ enabled: true, intervalMs: 300_000 });
    await clock.advance(100_000);
    trim.configure({ enabled: true, intervalMs: 300_000 });
    await clock.advance(250_000);
    expect(calls).toEqual(['moderate@300000']);
    trim.configure({ enabled: true, intervalMs: 60_000 });
    await clock.advance(60_000);
    expect(calls).toEqual(['moderate@300000', 'moderate@410000']);
  });

  it('stop cancels the next trim', async () => {
    const { clock, trim, calls } = setup();
    trim.configure({ enabled: true, intervalMs: 300_000 });
    trim.stop();
    await clock.advance(1_000_000);
    expect(calls).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('HeapTrim without the addon', () => {
  it('says why once when trims are enabled, never when disabled, and sets no timer', async () => {
    const clock = new FakeClock();
    const said: string[] = [];
    const reason = new Error('the heap addon cannot be loaded');
    const trim = new HeapTrim(clock, reason, {
      trimmed: () => said.push('trimmed'),
      unavailable: (err) => said.push(err.message),
    });
    trim.configure({ enabled: false, intervalMs: 300_000 });
    expect(said).toEqual([]);
    trim.configure({ enabled: true, intervalMs: 300_000 });
    trim.configure({ enabled: true, intervalMs: 60_000 });
    expect(trim.started()).toBeUndefined();
    await clock.advance(1_000_000);
    expect(said).toEqual([reason.message]);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('the agent and heap_trim', () => {
  const cleanups: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('trims as its config says, follows a reload and stops with the agent', async () => {
    const text = (heapTrim: string): string =>
      `agent: {id: a1}\nlisten: "127.0.0.1:0"\n${heapTrim}targets:\n  - name: t\n    host: 192.0.2.1\n` +
      '    checks:\n      - {kind: tcp, port: 9, interval: 1h}\n';
    const cfg = tempConfig(text('heap_trim: {interval: 1m}\n'));
    cleanups.push(() => cfg.remove());
    const clock = new FakeClock();
    const notified: string[] = [];
    const agent = new Agent({
      configFile: cfg.file,
      registry: new CheckRegistry([tcpKind]),
      // Its runs fail at the name: no other port is used.
      net: fakeNet({ resolver: { resolve: () => Promise.reject(new Error('no such name')) } }),
      clock,
      log: createLogger('silent'),
      watch: false,
      heapPressure: { moderate: () => notified.push('moderate'), critical: () => notified.push('critical') },
    });
    cleanups.push(() => agent.stop(0));
    await agent.start();
    expect(notified).toEqual(['critical']);
    await clock.advance(60_000);
    expect(notified).toEqual(['critical', 'moderate']);

    cfg.write(text('heap_trim: {enabled: false}\n'));
    expect(await agent.reload()).toBe(true);
    await clock.advance(600_000);
    expect(notified).toHaveLength(2);

    cfg.write(text('heap_trim: {interval: 2m}\n'));
    expect(await agent.reload()).toBe(true);
    await clock.advance(120_000);
    expect(notified).toEqual(['critical', 'moderate', 'moderate']);

    await agent.stop(0);
    await clock.advance(600_000);
    expect(notified).toHaveLength(3);
  });
});
