import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { CheckSpec, RunContext } from '../../../src/checks/check.js';
import { tracerouteKind } from '../../../src/checks/traceroute/index.js';
import { routeHash } from '../../../src/checks/traceroute/trace.js';
import { tracerouteSettingsSchema } from '../../../src/checks/traceroute/traceroute-settings.js';
import type { TracerouteSettings } from '../../../src/checks/traceroute/traceroute-settings.js';
import { CheckFailure, RunCancelled, RunDeadlineExceeded } from '../../../src/errors.js';
import { createLogger } from '../../../src/log.js';
import type { EchoOutcome, EchoRequest } from '../../../src/net/icmp/echo.js';
import type { IcmpPort, ResolvedAddress } from '../../../src/net/net-deps.js';
import { FakeClock, flushPromises } from '../../helpers/fake-clock.js';
import { fakeNet, tableResolver } from '../../helpers/fake-net.js';

const log = createLogger('silent');
const V4: ResolvedAddress = { address: '192.0.2.99', family: 4 };
const V6: ResolvedAddress = { address: '2001:db8::99', family: 6 };
type Settings = z.input<typeof tracerouteSettingsSchema>;

function spec(settings: Settings = {}): CheckSpec<TracerouteSettings> {
  return {
    name: 'far-traceroute',
    kind: 'traceroute',
    target: { name: 'far', host: 'far.example', group: '', labels: {} },
    schedule: { type: 'interval', intervalMs: 60_000 },
    timeoutMs: 10_000,
    settings: tracerouteSettingsSchema.parse(settings),
  };
}

interface PathSpec {
  /** Router addresses, hop 1 first; null for a router that sends no Time Exceeded. */
  routers: Array<string | null>;
  /**
   * What the destination, one hop after the last router, does: answer, stay silent, or the last
   * router answers unreachable with this code; `failed`: the engine cannot send at all.
   */
  destination: 'reply' | 'silent' | { unreachable: number } | 'failed';
  rttMs?: number;
}

const UNAVAILABLE = new CheckFailure('ICMP_UNAVAILABLE', 'no raw ICMP socket: CAP_NET_RAW is missing', 'ping');

/** An ICMP port answering each probe by its TTL, after the path's RTT of fake time. */
function icmpPort(clock: FakeClock, pathOf: (address: string) => PathSpec) {
  const requests: EchoRequest[] = [];
  const port: IcmpPort = {
    echo(req) {
      requests.push(req);
      const path = pathOf(req.address);
      if (path.destination === 'failed') return Promise.resolve({ status: 'failed', failure: UNAVAILABLE });
      return new Promise<EchoOutcome>((resolve) => {
        const ttl = req.ttl ?? 64;
        const rttMs = path.rttMs ?? 10;
        const rttNs = BigInt(rttMs * 1e6);
        const last = path.routers.length;
        let answer: EchoOutcome | undefined;
        if (ttl <= last) {
          const router = path.routers[ttl - 1];
          if (router) answer = { status: 'time-exceeded', code: 0, rttNs, from: router };
        } else if (path.destination === 'reply') {
          answer = { status: 'reply', rttNs, ttl: 60, from: req.address };
        } else if (typeof path.destination === 'object') {
          answer = { status: 'unreachable', code: path.destination.unreachable, rttNs, from: path.routers.at(-1)! };
        }
        const settle = (outcome: EchoOutcome): void => {
          cancelAnswer();
          cancelTimeout();
          resolve(outcome);
        };
        const cancelAnswer = answer ? clock.setTimer(rttMs, () => settle(answer!)) : () => undefined;
        const cancelTimeout = clock.setTimer(req.timeoutMs, () => settle({ status: 'timeout' }));
        req.signal?.addEventListener('abort', () => settle({ status: 'aborted' }), { once: true });
      });
    },
  };
  return { port, requests };
}

/** Moves fake time in small steps until `pending` settles. */
async function settle<T>(clock: FakeClock, pending: Promise<T>, maxMs = 5_000): Promise<T> {
  let done = false;
  void pending.finally(() => (done = true));
  await flushPromises(); // what needs no time (the resolution) happens at the start, not one step later
  for (let t = 0; t < maxMs && !done; t += 5) await clock.advance(5);
  expect(done, `still running after ${maxMs} ms of fake time`).toBe(true);
  return pending;
}

const ROUTERS = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];

interface Setup {
  settings?: Settings;
  addresses?: ResolvedAddress[];
  paths: (address: string) => PathSpec;
  ctx?: Partial<RunContext>;
}

async function run({ settings = {}, addresses = [V4, V6], paths, ctx = {} }: Setup) {
  const clock = new FakeClock();
  const resolver = tableResolver({ 'far.example': addresses });
  const { port, requests } = icmpPort(clock, paths);
  const check = tracerouteKind.create(spec(settings), fakeNet({ resolver, icmp: port }));
  const results = await settle(clock, check.run({ signal: new AbortController().signal, clock, log, ...ctx }));
  return { results, result: results[0]!, requests };
}

const path =
  (destination: PathSpec['destination'], routers: PathSpec['routers'] = ROUTERS, rttMs = 10) =>
  () => ({
    routers,
    destination,
    rttMs,
  });

describe('traceroute check', () => {
  it('traces the first address by default: every TTL to max_hops, probes_per_hop each, probe_timeout', async () => {
    const { results, requests } = await run({
      settings: { max_hops: 10, probes_per_hop: 2, probe_timeout: '500ms' },
      paths: path('reply'),
    });
    expect(results).toHaveLength(1);
    expect(new Set(requests.map((r) => `${r.address} ${r.family}`))).toEqual(new Set([`${V4.address} 4`]));
    const perTtl = new Map<number, number>();
    for (const r of requests) perTtl.set(r.ttl ?? 0, (perTtl.get(r.ttl ?? 0) ?? 0) + 1);
    expect([...perTtl.keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect([...perTtl.values()].every((n) => n === 2)).toBe(true);
    expect(requests.every((r) => r.timeoutMs === 500 && r.constantChecksum === true)).toBe(true);
  });

  it('records the reached path: hops, hash, last responding hop, hop count, phases', async () => {
    const { result } = await run({ settings: { probes_per_hop: 2 }, paths: path('reply', ROUTERS, 20) });
    const hops = [...ROUTERS, V4.address].map((a, i) => ({ ttl: i + 1, addresses: [a], rttMs: [20, 20], loss: 0 }));
    expect(result).toMatchObject({
      check: 'far-traceroute',
      ip: V4.address,
      ok: true,
      error: null,
      reached: true,
      hops,
      routeHash: routeHash(hops),
      lastRespondingHop: 4,
      hopCount: 4,
      routeChanged: false,
    });
    expect(Object.keys(result.phasesMs)).toEqual(['resolve', 'trace']);
    // Every hop answers after 20 ms; the probes beyond the destination are given up 5 round trips later.
    expect(result.phasesMs.trace).toBeGreaterThanOrEqual(20);
    expect(result.phasesMs.trace).toBeLessThanOrEqual(20 + 5 * 20 + 5);
    expect(result.durationMs).toBe(result.phasesMs.resolve! + result.phasesMs.trace!);
  });

  it('keeps a silent router as a hop without addresses, and still reaches the destination', async () => {
    const { result } = await run({ paths: path('reply', ['10.0.0.1', null, '10.0.0.3']) });
    expect(result).toMatchObject({ ok: true, reached: true, lastRespondingHop: 4, hopCount: 4 });
    expect(result.hops?.[1]).toEqual({ ttl: 2, addresses: [], rttMs: [], loss: 1 });
  });

  it.each([
    [{ ips: 'all' as const }, [V4, V6]],
    [{ ip_family: 'ipv6' as const }, [V6]],
  ])('traces the addresses %j selects, one record each, in their family', async (settings, traced) => {
    const { results, requests } = await run({ settings, paths: path('reply') });
    expect(results.map((r) => [r.ip, r.reached])).toEqual(traced.map((a) => [a.address, true]));
    expect(new Set(requests.map((r) => `${r.address} ${r.family}`))).toEqual(
      new Set(traced.map((a) => `${a.address} ${a.family}`)),
    );
  });

  it('fails a blackholed destination with TRACE_INCOMPLETE naming the last responding hop', async () => {
    const { result } = await run({ paths: path('silent') });
    expect(result).toMatchObject({
      ok: false,
      reached: false,
      lastRespondingHop: 3,
      hopCount: 3,
      error: {
        code: 'TRACE_INCOMPLETE',
        message: `${V4.address} not reached: the path goes silent after hop 3 (10.0.0.3)`,
        phase: 'trace',
      },
    });
    expect(result.hops?.map((h) => h.addresses[0] ?? '*')).toEqual([...ROUTERS, '*', '*', '*']);
  });

  it('says when nothing answered at all', async () => {
    const { result } = await run({ paths: path('silent', [null, null]) });
    expect(result).toMatchObject({
      ok: false,
      lastRespondingHop: 0,
      hopCount: 0,
      error: {
        code: 'TRACE_INCOMPLETE',
        message: `${V4.address} not reached: the path goes silent after the first hop: nothing answered at all`,
      },
    });
  });

  it.each([
    [1, 'host'],
    [0, 'net'],
    [13, 'prohibited'],
  ])(
    'fails an unreachable answer (code %d) with ICMP_UNREACHABLE, naming the kind, hop and router',
    async (code, kind) => {
      const { result } = await run({ paths: path({ unreachable: code }) });
      expect(result).toMatchObject({
        ok: false,
        reached: false,
        lastRespondingHop: 4,
        hopCount: 4,
        error: {
          code: 'ICMP_UNREACHABLE',
          message: `${V4.address}: destination unreachable (${kind}) at hop 4 from 10.0.0.3`,
          phase: 'trace',
        },
      });
      expect(result.hops?.at(-1)).toMatchObject({ ttl: 4, addresses: ['10.0.0.3'], unreachable: kind });
    },
  );

  it("reports the engine's failure when no probe could be sent", async () => {
    const { result } = await run({ paths: path('failed') });
    expect(result).toMatchObject({
      ok: false,
      reached: false,
      error: { code: 'ICMP_UNAVAILABLE', message: UNAVAILABLE.message },
    });
  });

  it.each([
    ['a cancellation', new RunCancelled('agent stopping'), 'ABORTED', `trace of ${V4.address} was cancelled`],
    [
      'the run deadline',
      new RunDeadlineExceeded(50),
      'TRACE_INCOMPLETE',
      `${V4.address} not reached: the path goes silent after hop 3 (10.0.0.3)`,
    ],
  ])('ends a trace stopped by %s with %s and the partial path', async (_what, reason, code, message) => {
    const controller = new AbortController();
    const clock = new FakeClock();
    clock.setTimer(50, () => controller.abort(reason));
    const resolver = tableResolver({ 'far.example': [V4] });
    const { port } = icmpPort(clock, path('silent'));
    const check = tracerouteKind.create(spec(), fakeNet({ resolver, icmp: port }));
    const [result] = await settle(clock, check.run({ signal: controller.signal, clock, log }));
    expect(result).toMatchObject({ ok: false, reached: false, error: { code, message, phase: 'trace' } });
    expect(result!.phasesMs.trace).toBe(50);
    expect(result!.hops?.map((h) => h.addresses[0] ?? '*')).toEqual([...ROUTERS, '*', '*', '*']);
  });

  it("says when an IP's route changed since its previous complete trace; partial traces change nothing", async () => {
    const A = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
    const B = ['10.0.0.1', '10.9.9.2', '10.0.0.3'];
    const clock = new FakeClock();
    let current: PathSpec = { routers: A, destination: 'reply' };
    let v6: PathSpec = { routers: A, destination: 'reply' };
    const resolver = tableResolver({ 'far.example': [V4, V6] });
    const { port } = icmpPort(clock, (address) => (address === V6.address ? v6 : current));
    const check = tracerouteKind.create(spec({ ips: 'all' }), fakeNet({ resolver, icmp: port }));
    const runOnce = async (next: PathSpec, cancelAfterMs?: number) => {
      current = next;
      const controller = new AbortController();
      if (cancelAfterMs !== undefined) clock.setTimer(cancelAfterMs, () => controller.abort(new RunCancelled('stop')));
      const results = await settle(clock, check.run({ signal: controller.signal, clock, log }));
      return results.map((r) => r.routeChanged);
    };
    const seen = [
      await runOnce({ routers: A, destination: 'reply' }),
      await runOnce({ routers: A, destination: 'reply' }),
      await runOnce({ routers: B, destination: 'reply' }),
      await runOnce({ routers: B, destination: 'reply' }),
      await runOnce({ routers: A, destination: 'failed' }),
      await runOnce({ routers: A, destination: 'reply' }),
      await runOnce({ routers: B, destination: 'silent' }, 30),
      await runOnce({ routers: A, destination: 'reply' }),
    ];
    // [v4, v6]: the v6 path never changed, except that the cancelled run cut it short too.
    expect(seen).toEqual([
      [false, false],
      [false, false],
      [true, false],
      [false, false],
      [false, false],
      [true, false],
      [false, false],
      [false, false],
    ]);
    v6 = { routers: B, destination: 'reply' };
    expect(await runOnce({ routers: A, destination: 'reply' })).toEqual([false, true]);
  });

  it('counts a complete trace that did not reach the destination as a route', async () => {
    const clock = new FakeClock();
    let current: PathSpec = { routers: ROUTERS, destination: 'reply' };
    const { port } = icmpPort(clock, () => current);
    const check = tracerouteKind.create(
      spec(),
      fakeNet({ resolver: tableResolver({ 'far.example': [V4] }), icmp: port }),
    );
    const ctx = { signal: new AbortController().signal, clock, log };
    await settle(clock, check.run(ctx));
    current = { routers: ROUTERS, destination: 'silent' };
    const [silent] = await settle(clock, check.run(ctx));
    expect(silent).toMatchObject({ reached: false, routeChanged: true });
  });

  it('reports progress through the run context', async () => {
    const progress: Array<[number, number]> = [];
    await run({
      settings: { max_hops: 8, probes_per_hop: 1 },
      paths: path('reply'),
      ctx: { onProgress: (done, total) => progress.push([done, total]) },
    });
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toEqual([4, 4]);
  });

  it('gives one record without ip and sends no probe when the name does not resolve', async () => {
    const results = await tracerouteKind
      .create(spec(), fakeNet({ resolver: tableResolver({}) }))
      .run({ signal: new AbortController().signal, clock: new FakeClock(), log });
    expect(results).toEqual([
      expect.objectContaining({ ok: false, error: expect.objectContaining({ code: 'DNS_NAME_NOT_FOUND' }) }),
    ]);
    expect(results[0]).not.toHaveProperty('ip');
  });

  it.each([
    ['1s', 5_000, false],
    ['5s', 5_000, true],
    ['6s', 5_000, true],
  ])('checks that probe_timeout %s is shorter than the run timeout %d ms', (probeTimeout, timeoutMs, problem) => {
    const s = spec({ probe_timeout: probeTimeout });
    const problems = tracerouteKind.checkSettings?.(s.target, s.settings, timeoutMs) ?? [];
    expect(problems.map((p) => p.path)).toEqual(problem ? [['probe_timeout']] : []);
  });
});
