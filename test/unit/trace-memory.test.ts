import { describe, expect, it } from 'vitest';
import type { CheckSpec } from '../../src/checks/check.js';
import { tracerouteKind } from '../../src/checks/traceroute/index.js';
import { FULL_WAIT_EVERY, PathMemory } from '../../src/checks/traceroute/path-memory.js';
import { KNOWN_HOP_FLOOR_MS, routeHash, SLOW_HOP_FLOOR_MS } from '../../src/checks/traceroute/trace.js';
import type { TraceHop, TraceResult } from '../../src/checks/traceroute/trace.js';
import { tracerouteSettingsSchema } from '../../src/checks/traceroute/traceroute-settings.js';
import type { TracerouteSettings } from '../../src/checks/traceroute/traceroute-settings.js';
import { createLogger } from '../../src/log.js';
import { FakeClock, flushPromises } from '../helpers/fake-clock.js';
import { fakeNet, tableResolver } from '../helpers/fake-net.js';
import { eight, fakePath, runTrace } from './trace-fake-path.js';

const S = Number.NaN;
/** What a full trace of `eight` on a path of `rttMs` leaves: every hop's RTT, hop 5 silent. */
const learned = (rttMs: number, hopRttMs: Record<number, number> = {}) =>
  [...eight, '192.0.2.99'].map((r, i) => (r ? (hopRttMs[i + 1] ?? rttMs) : S));
/** A recall of `hops` for a quick trace. */
const quick = (hops: number[]) => ({ hops, fullWait: false });

describe('trace with a recall of recent traces', () => {
  it.each([
    ['a 1 ms path: 5 x (1 + 1) ms, not the 35 ms floor', 1, 10],
    ['a 20 ms path: 5 x (20 + 1) ms, as without a recall', 20, 105],
  ])('gives a hop silent through a full wait up as traceroute does: %s', async (_, rttMs, waitMs) => {
    const clock = new FakeClock();
    const { result, elapsedMs } = await runTrace(
      clock,
      { routers: eight, destination: 'reply', rttMs },
      { recall: quick(learned(rttMs)) },
    );
    expect(result.reached).toBe(true);
    expect(result.hops[4]).toMatchObject({ ttl: 5, addresses: [], loss: 1 });
    expect(elapsedMs).toBeGreaterThanOrEqual(waitMs);
    expect(elapsedMs).toBeLessThanOrEqual(waitMs + 2);
  });

  it('lists a router known to answer 31 ms late and ends when it did, the silent hop long given up', async () => {
    const clock = new FakeClock();
    const { result, elapsedMs } = await runTrace(
      clock,
      { routers: eight, destination: 'reply', rttMs: 1, hopRttMs: { 3: 31 } },
      { recall: quick(learned(1, { 3: 31 })) },
    );
    expect(result.hops[2]).toMatchObject({ ttl: 3, addresses: ['10.0.2.1'], rttMs: [31, 31, 31] });
    expect(result.hops[4]).toMatchObject({ ttl: 5, addresses: [], loss: 1 });
    expect(elapsedMs).toBeLessThanOrEqual(31 + 2);
  });

  it('waits 2 x its learned RTT + 5 ms for a late router that stays silent this once', async () => {
    const clock = new FakeClock();
    const routers = eight.map((r, i) => (i === 2 ? null : r));
    const { result, elapsedMs } = await runTrace(
      clock,
      { routers, destination: 'reply', rttMs: 1 },
      { recall: quick(learned(1, { 3: 31 })) },
    );
    expect(result.hops[2]).toMatchObject({ ttl: 3, addresses: [], loss: 1 });
    expect(elapsedMs).toBeGreaterThanOrEqual(2 * 31 + 5);
    expect(elapsedMs).toBeLessThanOrEqual(2 * 31 + 5 + 2);
  });

  it('gives a hop the recall does not cover the full wait (floor)', async () => {
    const clock = new FakeClock();
    const { elapsedMs } = await runTrace(
      clock,
      { routers: eight, destination: 'reply', rttMs: 1 },
      { recall: quick(learned(1).slice(0, 4)) },
    );
    expect(elapsedMs).toBeGreaterThanOrEqual(SLOW_HOP_FLOOR_MS);
    expect(elapsedMs).toBeLessThanOrEqual(SLOW_HOP_FLOOR_MS + 2);
  });

  it.each([
    ['answers 31 ms late: the floor holds the silent hop 5', false, SLOW_HOP_FLOOR_MS],
    ['is silent this once: 2 x 31 + 5 ms', true, 2 * 31 + 5],
  ])(
    'waits in full every 10th trace, still giving a known late router its wait: it %s',
    async (_, silentOnce, waitMs) => {
      const clock = new FakeClock();
      const routers = eight.map((r, i) => (silentOnce && i === 2 ? null : r));
      const { result, elapsedMs } = await runTrace(
        clock,
        { routers, destination: 'reply', rttMs: 1, hopRttMs: { 3: 31 } },
        { recall: { hops: learned(1, { 3: 31 }), fullWait: true } },
      );
      expect(result.hops[4]).toMatchObject({ ttl: 5, addresses: [], loss: 1 });
      expect(elapsedMs).toBeGreaterThanOrEqual(waitMs);
      expect(elapsedMs).toBeLessThanOrEqual(waitMs + 2);
    },
  );

  it('gives a known-silent hop the known-hop floor, not 3 x 0.1 ms, once one of its probes answered', async () => {
    const clock = new FakeClock();
    const routers = eight.map((r) => r ?? '10.0.4.1');
    const { result, elapsedMs } = await runTrace(
      clock,
      { routers, destination: 'reply', rttMs: 0.1, answersFirst: { 5: 1 } },
      { recall: quick(learned(0.1)) },
    );
    expect(result.hops[4]).toMatchObject({ ttl: 5, addresses: ['10.0.4.1'], rttMs: [0.1] });
    expect(elapsedMs).toBeGreaterThanOrEqual(KNOWN_HOP_FLOOR_MS);
    expect(elapsedMs).toBeLessThanOrEqual(KNOWN_HOP_FLOOR_MS + 2);
  });
});

/** A complete trace's result from its hops' RTTs, in TTL order (null: silent). */
function traced(rtts: Array<number | null>, addresses: string[] = []): TraceResult {
  const hops: TraceHop[] = rtts.map((rtt, i) => ({
    ttl: i + 1,
    addresses: rtt === null ? [] : [addresses[i] ?? `10.0.${i}.1`],
    rttMs: rtt === null ? [] : [rtt],
    loss: rtt === null ? 1 : 0,
  }));
  return { reached: true, hops, routeHash: routeHash(hops), lastRespondingHop: hops.length };
}

describe('PathMemory', () => {
  const A = '192.0.2.1';

  it("recalls nothing for a first trace, then a full trace's answers and silences", () => {
    const memory = new PathMemory();
    expect(memory.recall(A)).toBeUndefined();
    memory.learn(A, traced([0.1, null, 31, 0.2]), false);
    expect(memory.recall(A)).toEqual({ hops: [0.1, S, 31, 0.2], fullWait: false });
    expect(memory.lastRoute(A)).toBe(traced([0.1, null, 31, 0.2]).routeHash);
  });

  it(`waits in full on the first trace and every ${FULL_WAIT_EVERY}th after it`, () => {
    const memory = new PathMemory();
    const full: number[] = [];
    for (let n = 0; n < 3 * FULL_WAIT_EVERY; n++) {
      const recall = memory.recall(A);
      const quick = recall?.fullWait === false;
      if (!quick) full.push(n);
      memory.learn(A, traced([1, null, 1]), quick);
    }
    expect(full).toEqual([0, FULL_WAIT_EVERY, 2 * FULL_WAIT_EVERY]);
  });

  it.each([
    ["a hop's address", traced([1, null, 1], ['10.0.0.1', '', '10.9.9.9'])],
    ["the destination's hop count", traced([1, null, 1, 1])],
    ['a silent hop that answers', traced([1, 1, 1])],
  ])('makes the next trace wait in full when %s changes', (_, changed) => {
    const memory = new PathMemory();
    memory.learn(A, traced([1, null, 1]), false);
    memory.learn(A, changed, true);
    expect(memory.recall(A)?.fullWait).toBe(true);
    expect(memory.lastRoute(A)).toBe(changed.routeHash);
    memory.learn(A, changed, false);
    expect(memory.recall(A)?.fullWait).toBe(false);
  });

  it('keeps the slowest answer per hop since the full wait', () => {
    const memory = new PathMemory();
    memory.learn(A, traced([1, null, 20]), false);
    memory.learn(A, traced([3, null, 10]), true);
    memory.learn(A, traced([2, null, 30]), true);
    expect(memory.recall(A)?.hops).toEqual([3, S, 30]);
  });

  it('forgets the IPs the check no longer traces', () => {
    const memory = new PathMemory();
    memory.learn(A, traced([1]), false);
    memory.learn('192.0.2.2', traced([1]), false);
    memory.retain(new Set(['192.0.2.2']));
    expect(memory.size).toBe(1);
    expect(memory.recall(A)).toBeUndefined();
  });
});

describe('traceroute check, warm', () => {
  const log = createLogger('silent');
  const spec: CheckSpec<TracerouteSettings> = {
    name: 'far-traceroute',
    kind: 'traceroute',
    target: { name: 'far', host: 'far.example', group: '', labels: {} },
    schedule: { type: 'interval', intervalMs: 60_000 },
    timeoutMs: 10_000,
    settings: tracerouteSettingsSchema.parse({}),
  };

  /** A traceroute check of far.example (`table` answers for it) on `eight`, 1 ms apart, hop 3 31 ms late. */
  function warmCheck(clock: FakeClock, table: Parameters<typeof tableResolver>[0]) {
    const { port } = fakePath(clock, { routers: eight, destination: 'reply', rttMs: 1, hopRttMs: { 3: 31 } });
    const check = tracerouteKind.create(spec, fakeNet({ resolver: tableResolver(table), icmp: port }));
    /** One run: the trace phase, ms, after checking the late router is listed. */
    return async (): Promise<number> => {
      let done = false;
      const running = check.run({ signal: new AbortController().signal, clock, log }).finally(() => (done = true));
      await flushPromises();
      while (!done) await clock.advance(1);
      const [r] = await running;
      expect(r!.hops?.[2]?.addresses).toEqual(['10.0.2.1']);
      return r!.phasesMs.trace!;
    };
  }

  it('waits the floor for the silent hop on its first trace and every Nth, traceroute-quick between', async () => {
    const clock = new FakeClock();
    const run = warmCheck(clock, { 'far.example': [{ address: '192.0.2.99', family: 4 }] });
    const traceMs: number[] = [];
    for (let n = 0; n <= FULL_WAIT_EVERY; n++) traceMs.push(await run());
    // The late router answers at 31 ms; the silent hop 5 holds a full-wait trace to the floor.
    const quick = traceMs.map((ms) => (ms > 33 ? 'full' : 'quick'));
    expect(quick).toEqual(['full', ...Array<string>(FULL_WAIT_EVERY - 1).fill('quick'), 'full']);
    expect(traceMs[0]).toBeGreaterThanOrEqual(SLOW_HOP_FLOOR_MS);
  });

  it('forgets an IP the name no longer resolves to: its next trace waits in full again', async () => {
    const clock = new FakeClock();
    const table = { 'far.example': [{ address: '192.0.2.99', family: 4 as const }] };
    const run = warmCheck(clock, table);
    const full = async () => (await run()) >= SLOW_HOP_FLOOR_MS;
    expect([await full(), await full()]).toEqual([true, false]);
    table['far.example'] = [{ address: '192.0.2.98', family: 4 }];
    expect([await full(), await full()]).toEqual([true, false]);
    table['far.example'] = [{ address: '192.0.2.99', family: 4 }];
    expect(await full()).toBe(true);
  });
});
