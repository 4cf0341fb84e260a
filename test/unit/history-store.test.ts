import { describe, expect, it } from 'vitest';
import type { CheckResult, CheckSpec } from '../../src/checks/check.js';
import { DEFAULT_HISTORY_MAX_BYTES } from '../../src/history/history-settings.js';
import { HistoryStore } from '../../src/history/history-store.js';
import { SampleRing } from '../../src/history/sample-ring.js';
import { SlotPools } from '../../src/slabs.js';

const spec = (name: string, kind: string, target = 'web'): CheckSpec => ({
  name,
  kind,
  target: { name: target, host: 'web.example', group: '', labels: {} },
  schedule: { type: 'interval', intervalMs: 30_000 },
  timeoutMs: 5_000,
  settings: {},
});

function result(over: Partial<CheckResult> & Record<string, unknown>, i: number): CheckResult {
  return {
    check: 'c',
    kind: 'tcp',
    target: 'web',
    ip: '198.18.0.1',
    ok: true,
    error: null,
    startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    durationMs: 10 + i,
    phasesMs: { resolve: 1, connect: 9 + i },
    ...over,
  };
}

const phases = (kind: string): readonly string[] => (kind === 'tcp' ? ['resolve', 'connect'] : []);

describe('SampleRing', () => {
  it.each([
    [3, 2, [0, 1]],
    [3, 3, [0, 1, 2]],
    [3, 7, [4, 5, 6]],
    [1, 4, [3]],
  ])('capacity %i after %i pushes holds %j, oldest first', (capacity, pushes, expected) => {
    const ring = new SampleRing(capacity, ['a'], [], new SlotPools());
    for (let i = 0; i < pushes; i++)
      ring.push({ t: i, ok: i % 2 === 0, ms: i, lowMs: i, highMs: i, loss: 0, phasesMs: [i * 2] });
    expect(ring.samples().map((s) => s.t)).toEqual(expected);
    expect(ring.samples().map((s) => s.phasesMs[0])).toEqual(expected.map((i) => i * 2));
    expect(ring.last()?.t).toBe(pushes - 1);
  });

  it('shares slabs with rings of its size, unseen by them; freed, it keeps nothing, the next ring has its slot', () => {
    const pools = new SlotPools();
    const codes: string[] = [];
    const [a, b] = [new SampleRing(3, ['p', 'q'], codes, pools), new SampleRing(3, ['p', 'q'], codes, pools)];
    expect(a.slab).toBe(b.slab);
    const sample = (t: number, ok: boolean, code?: string) => ({
      t,
      ok,
      ms: t + 0.5,
      lowMs: t,
      highMs: t + 1,
      loss: ok ? 0 : 1,
      phasesMs: [t * 2, t * 3],
      ...(code ? { code } : {}),
    });
    for (let i = 0; i < 4; i++) {
      a.push(sample(100 + i, true));
      b.push(sample(200 + i, false, i % 2 ? 'E_ODD' : 'E_EVEN'));
    }
    expect(a.samples()).toEqual([101, 102, 103].map((t) => sample(t, true)));
    expect(b.samples()).toEqual([201, 202, 203].map((t, i) => sample(t, false, i % 2 ? 'E_EVEN' : 'E_ODD')));

    const [slab, base] = [b.slab, b.base];
    b.free();
    b.push(sample(300, true));
    expect([b.size, b.samples(), b.last()]).toStrictEqual([0, [], undefined]);
    const c = new SampleRing(3, ['p', 'q'], codes, pools);
    expect([c.slab, c.base]).toStrictEqual([slab, base]);
    expect(c.samples()).toEqual([]);
    c.push(sample(400, true));
    expect(c.samples()).toEqual([sample(400, true)]);
    expect(a.last()).toEqual(sample(103, true));
  });

  it('keeps nothing at capacity 0', () => {
    const ring = new SampleRing(0, [], [], new SlotPools());
    ring.push({ t: 1, ok: true, ms: 1, lowMs: 1, highMs: 1, loss: 0, phasesMs: [] });
    expect(ring.samples()).toEqual([]);
    expect(ring.last()).toBeUndefined();
  });
});

describe('HistoryStore', () => {
  it('keeps figures per check and IP: an echo run its RTT median, spread and loss, another its duration', () => {
    const store = new HistoryStore({ samples: 10, maxBytes: DEFAULT_HISTORY_MAX_BYTES }, phases);
    const icmp = spec('web-icmp', 'icmp');
    store.record(icmp, [
      result({ kind: 'icmp', loss: 0.25, rttMs: { min: 1, median: 2, max: 5, avg: 2, stddev: 1 } }, 0),
      result({ kind: 'icmp', ip: '2001:db8::1', ok: false, loss: 1, rttMs: null, error: fail('ICMP_NO_REPLY') }, 0),
    ]);
    store.record(spec('web-tcp', 'tcp'), [result({ ok: false, error: fail('TCP_REFUSED') }, 3)]);
    const h = store.target('web')!;
    const ips = h.checks.find((c) => c.check === 'web-icmp')!.ips;
    expect(ips.get('198.18.0.1')!.ring.last()).toMatchObject({ ms: 2, lowMs: 1, highMs: 5, loss: 0.25, ok: true });
    expect(ips.get('2001:db8::1')!.ring.last()).toMatchObject({ ms: Number.NaN, loss: 1, code: 'ICMP_NO_REPLY' });
    const tcp = h.checks
      .find((c) => c.check === 'web-tcp')!
      .ips.get('198.18.0.1')!
      .ring.last()!;
    expect(tcp).toMatchObject({ ms: 13, loss: 1, code: 'TCP_REFUSED', phasesMs: [1, 12] });
  });

  it('skips cancelled runs and forgets checks that left the config, even when their run finishes later', () => {
    const store = new HistoryStore({ samples: 10, maxBytes: DEFAULT_HISTORY_MAX_BYTES }, phases);
    const a = spec('a', 'tcp');
    const b = spec('b', 'tcp', 'other');
    store.retain([a, b]);
    store.record(a, [result({ ok: false, error: fail('ABORTED') }, 0)]);
    store.record(b, [result({}, 0)]);
    expect(store.target('web')?.checks[0]?.ips.size ?? 0).toBe(0);
    store.retain([a]);
    expect(store.target('other')).toBeUndefined();
    store.record(b, [result({}, 1)]);
    expect(store.target('other')).toBeUndefined();
  });

  it('gives back the rings of checks that leave and the rings a new size replaces', () => {
    const store = new HistoryStore({ samples: 5, maxBytes: DEFAULT_HISTORY_MAX_BYTES }, phases);
    const [a, b, c] = [spec('a', 'tcp'), spec('b', 'tcp', 'other'), spec('c', 'tcp', 'third')];
    store.retain([a, b, c]);
    for (const s of [a, b, c]) store.record(s, [result({}, 0)]);
    const ring = (target: string) => store.target(target)!.checks[0]!.ips.get('198.18.0.1')!.ring;
    const [ringA, ringB, ringC] = [ring('web'), ring('other'), ring('third')];
    // b's target leaves; c's target stays but c leaves it (d takes its place).
    const d = spec('d', 'tcp', 'third');
    store.retain([a, d]);
    expect([ringA.slab, ringB.slab, ringC.slab].map((slab) => slab !== undefined)).toEqual([true, false, false]);
    store.record(d, [result({}, 7)]);
    expect(
      ring('third')
        .samples()
        .map((s) => s.ms),
    ).toEqual([17]);
    store.configure({ samples: 3, maxBytes: DEFAULT_HISTORY_MAX_BYTES });
    expect(ringA.slab).toBeUndefined();
    expect(
      ring('web')
        .samples()
        .map((s) => s.ms),
    ).toEqual([10]);
  });

  it('a new size keeps the newest samples', () => {
    const store = new HistoryStore({ samples: 5, maxBytes: DEFAULT_HISTORY_MAX_BYTES }, phases);
    const a = spec('a', 'tcp');
    for (let i = 0; i < 5; i++) store.record(a, [result({}, i)]);
    store.configure({ samples: 2, maxBytes: DEFAULT_HISTORY_MAX_BYTES });
    const ring = store.target('web')!.checks[0]!.ips.get('198.18.0.1')!.ring;
    expect(ring.samples().map((s) => s.ms)).toEqual([13, 14]);
  });

  it('sizes every ring to history.max_bytes for the configured checks, and again when they change', () => {
    // A tcp sample is 8 (time) + 4 x (4 figures + 2 phases) + 2 (flags) = 34 bytes.
    const store = new HistoryStore({ samples: 100, maxBytes: 34 * 3 * 20 }, phases);
    const checks = ['a', 'b', 'c'].map((name) => spec(name, 'tcp', `t-${name}`));
    store.retain(checks);
    expect(store.samplesPerRing).toBe(20);
    for (let i = 0; i < 30; i++) for (const c of checks) store.record(c, [result({}, i)]);
    const ring = (target: string) => store.target(target)!.checks[0]!.ips.get('198.18.0.1')!.ring;
    expect(ring('t-a').samples()).toHaveLength(20);
    expect(ring('t-a').last()?.ms).toBe(10 + 29);

    // One check left: the other two may keep 30, capped by history.samples' 100.
    store.retain(checks.slice(0, 2));
    expect(store.samplesPerRing).toBe(30);
    expect(ring('t-b').capacity).toBe(30);
    expect(
      ring('t-b')
        .samples()
        .map((s) => s.ms),
    ).toEqual(Array.from({ length: 20 }, (_, i) => 20 + i));
    store.configure({ samples: 5, maxBytes: 34 * 3 * 20 });
    expect(
      ring('t-b')
        .samples()
        .map((s) => s.ms),
    ).toEqual([35, 36, 37, 38, 39]);
    store.configure({ samples: 100, maxBytes: 0 });
    expect(store.samplesPerRing).toBe(0);
    expect(ring('t-b').samples()).toEqual([]);
  });

  it('keeps the last traced path and marks a route change per IP', () => {
    const store = new HistoryStore({ samples: 5, maxBytes: DEFAULT_HISTORY_MAX_BYTES }, phases);
    const tr = spec('web-trace', 'traceroute');
    const hops = (last: string) => [
      { ttl: 1, addresses: ['198.18.0.254'], rttMs: [0.3], loss: 0 },
      { ttl: 2, addresses: [], rttMs: [], loss: 1 },
      { ttl: 3, addresses: [last], rttMs: [4], loss: 0 },
    ];
    store.record(tr, [result({ kind: 'traceroute', hops: hops('198.18.1.1'), routeHash: 'h1', reached: true }, 0)]);
    store.record(tr, [result({ kind: 'traceroute', hops: hops('198.18.1.1'), routeHash: 'h1', reached: true }, 1)]);
    store.record(tr, [result({ kind: 'traceroute', hops: hops('198.18.2.1'), routeHash: 'h2', reached: true }, 2)]);
    const h = store.target('web')!;
    expect(h.trace).toMatchObject({ routeHash: 'h2', ip: '198.18.0.1', check: 'web-trace' });
    expect(h.routeChanges).toEqual([{ t: Date.UTC(2026, 0, 1, 0, 0, 2), ip: '198.18.0.1' }]);
  });
});

function fail(code: 'ICMP_NO_REPLY' | 'TCP_REFUSED' | 'ABORTED'): CheckResult['error'] {
  return { code, message: code, phase: 'x' };
}
