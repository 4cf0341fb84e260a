import { describe, expect, it } from 'vitest';
import { routeHash, SLOW_HOP_FLOOR_MS } from '../../src/checks/traceroute/trace.js';
import { TraceTrigger } from '../../src/agent/triggered-trace.js';
import { icmpKind } from '../../src/checks/icmp/index.js';
import type { CheckResult } from '../../src/checks/check.js';
import { DEFAULT_TRIGGERED_TRACEROUTE } from '../../src/config/agent-config.js';
import { FakeClock, flushPromises } from '../helpers/fake-clock.js';
import { eight, fakePath, runTrace } from './trace-fake-path.js';

describe('trace', () => {
  it('finds every hop in about one round trip, probing all TTLs at once with one checksum', async () => {
    const clock = new FakeClock();
    const { result, elapsedMs, requests } = await runTrace(clock, {
      routers: eight.map((r) => r ?? '10.0.4.1'),
      destination: 'reply',
      rttMs: 20,
    });
    expect(result.reached).toBe(true);
    expect(result.hops.map((h) => h.addresses[0])).toEqual([...eight.map((r) => r ?? '10.0.4.1'), '192.0.2.99']);
    expect(result.hops.every((h) => h.loss === 0 && h.rttMs.length === 3)).toBe(true);
    expect(elapsedMs).toBeLessThanOrEqual(20 + 2); // one round trip: all rounds go out at once
    expect(requests.every((r) => r.constantChecksum === true)).toBe(true);
    expect(Math.max(...requests.map((r) => r.ttl ?? 0))).toBe(30);
  });

  it('marks a silent hop * and gives it a few round trips once the destination answered, not the timeout', async () => {
    const clock = new FakeClock();
    const { result, elapsedMs } = await runTrace(clock, { routers: eight, destination: 'reply', rttMs: 20 });
    expect(result.reached).toBe(true);
    expect(result.hops[4]).toMatchObject({ ttl: 5, addresses: [], loss: 1 });
    expect(result.lastRespondingHop).toBe(9);
    expect(elapsedMs).toBeLessThan(20 + 5 * 20 + 5);
  });

  it.each([
    ['a LAN path (1 ms)', 1, {}, SLOW_HOP_FLOOR_MS],
    ['a 20 ms destination behind 1 ms routers', 1, { 9: 20 }, SLOW_HOP_FLOOR_MS],
    ['a path of 20 ms routers', 20, {}, 5 * (20 + 1)],
  ])(
    'gives a silent hop up a few round trips of the next answering hop after its send: %s',
    async (_, rttMs, hopRttMs, waitMs) => {
      const clock = new FakeClock();
      const { result, elapsedMs } = await runTrace(clock, { routers: eight, destination: 'reply', rttMs, hopRttMs });
      expect(result.reached).toBe(true);
      expect(result.hops[4]).toMatchObject({ ttl: 5, addresses: [], loss: 1 });
      expect(elapsedMs).toBeGreaterThanOrEqual(waitMs);
      expect(elapsedMs).toBeLessThanOrEqual(waitMs + 2);
    },
  );

  // The second case: the wait counts from the probe's send, not from the request (a fresh engine
  // opens its socket and sends a warm-up echo first).
  it.each([
    ['sent at once', 0],
    ['sent 20 ms after the request', 20],
  ])(
    'keeps a router whose Time Exceeded leaves 30 ms late on a 1 ms path, silent hop and all (%s)',
    async (_, sendDelayMs) => {
      const clock = new FakeClock();
      const { result, elapsedMs } = await runTrace(clock, {
        routers: eight,
        destination: 'reply',
        rttMs: 1,
        hopRttMs: { 3: 31 },
        sendDelayMs,
      });
      expect(result.hops[2]).toMatchObject({ ttl: 3, addresses: ['10.0.2.1'], rttMs: [31, 31, 31], loss: 0 });
      expect(result.hops[4]).toMatchObject({ ttl: 5, addresses: [], loss: 1 });
      expect(elapsedMs).toBeLessThanOrEqual(sendDelayMs + SLOW_HOP_FLOOR_MS + 2);
    },
  );

  it('ends a blackholed destination one timeout after the start, keeping a short silent tail', async () => {
    const clock = new FakeClock();
    const { result, elapsedMs } = await runTrace(clock, { routers: eight, destination: 'silent', rttMs: 20 });
    expect(result.reached).toBe(false);
    expect(result.lastRespondingHop).toBe(8);
    expect(result.hops.map((h) => h.addresses[0] ?? '*').slice(7)).toEqual(['10.0.7.1', '*', '*', '*']);
    expect(elapsedMs).toBeLessThanOrEqual(1_000 + 2 * 10 + 2);
  });

  it('stops at an unreachable and marks it', async () => {
    const clock = new FakeClock();
    const { result } = await runTrace(clock, { routers: eight, destination: 'unreachable', rttMs: 5 });
    expect(result.reached).toBe(false);
    expect(result.hops.at(-1)).toMatchObject({ ttl: 9, addresses: ['10.0.7.1'], unreachable: 'host' });
  });

  it('honours max hops, reports progress up to the destination hop', async () => {
    const clock = new FakeClock();
    const { result, requests, progress } = await runTrace(
      clock,
      { routers: eight, destination: 'reply', rttMs: 5 },
      { maxHops: 4 },
    );
    expect(Math.max(...requests.map((r) => r.ttl ?? 0))).toBe(4);
    expect(result.hops).toHaveLength(4 + 0);
    expect(result.reached).toBe(false);
    expect(progress.at(-1)).toEqual([4, 4]);
  });

  it('returns the partial path when cancelled', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    clock.setTimer(10, () => controller.abort());
    // A silent destination: without the cancel the trace would wait out its 1 s probe timeout.
    const { result, elapsedMs } = await runTrace(
      clock,
      { routers: eight, destination: 'silent', rttMs: 5 },
      { signal: controller.signal, stepsMs: 50 },
    );
    expect(elapsedMs).toBeLessThanOrEqual(11);
    expect(result).toMatchObject({ cancelled: true, reached: false });
    expect(result.hops.slice(0, 4).map((h) => h.addresses[0])).toEqual(eight.slice(0, 4));
  });

  it('route hash changes with the route, not with RTTs', () => {
    const hop = (a: string, rtt: number) => ({ ttl: 1, addresses: [a], rttMs: [rtt], loss: 0 });
    expect(routeHash([hop('10.0.0.1', 1)])).toBe(routeHash([hop('10.0.0.1', 9)]));
    expect(routeHash([hop('10.0.0.1', 1)])).not.toBe(routeHash([hop('10.0.0.2', 1)]));
  });
});

describe('TraceTrigger', () => {
  const silent = (ip: string): CheckResult => ({
    check: 'c',
    kind: 'icmp',
    target: 't',
    ip,
    ok: false,
    error: { code: 'ICMP_NO_REPLY', message: '', phase: 'ping' },
    startedAt: '',
    durationMs: 1,
    phasesMs: {},
  });
  const fine = (ip: string): CheckResult => ({ ...silent(ip), ok: true, error: null });

  async function attach(trigger: TraceTrigger, clock: FakeClock, results: CheckResult[]) {
    const done = trigger.attach(icmpKind, results, new AbortController().signal);
    for (let i = 0; i < 2_500; i++) await clock.advance(1);
    await done;
    await flushPromises();
    return results.map((r) => ('traceroute' in r ? r.ip : null)).filter(Boolean);
  }

  it('traces only when the first address is silent, at most three, each IP once per interval', async () => {
    const clock = new FakeClock();
    const { port, requests } = fakePath(clock, { routers: eight, destination: 'silent', rttMs: 5 });
    const trigger = new TraceTrigger(port, clock, DEFAULT_TRIGGERED_TRACEROUTE);
    expect(await attach(trigger, clock, [fine('192.0.2.1'), silent('192.0.2.2')])).toEqual([]);
    expect(requests).toHaveLength(0);
    const traced = await attach(trigger, clock, [
      silent('192.0.2.2'),
      fine('192.0.2.1'),
      silent('192.0.2.3'),
      silent('192.0.2.4'),
      silent('192.0.2.5'),
    ]);
    expect(traced).toEqual(['192.0.2.2', '192.0.2.3', '192.0.2.4']);
    expect(await attach(trigger, clock, [silent('192.0.2.2'), silent('192.0.2.5')])).toEqual(['192.0.2.5']);
    trigger.reconfigure({ ...DEFAULT_TRIGGERED_TRACEROUTE, enabled: false });
    await clock.advance(DEFAULT_TRIGGERED_TRACEROUTE.minIntervalMs);
    expect(await attach(trigger, clock, [silent('192.0.2.9')])).toEqual([]);
  });
});
