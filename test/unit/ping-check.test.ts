import { describe, expect, it } from 'vitest';
import type { CheckSpec } from '../../src/checks/check.js';
import { icmpKind } from '../../src/checks/icmp/index.js';
import type { IcmpSettings } from '../../src/checks/icmp/icmp-settings.js';
import { rttStats } from '../../src/checks/icmp/rtt-stats.js';
import { CheckFailure } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import type { EchoOutcome, EchoRequest } from '../../src/net/icmp/echo.js';
import type { NetDeps } from '../../src/net/net-deps.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { fakeNet } from '../helpers/fake-net.js';

const log = createLogger('silent');

function spec(settings: Partial<IcmpSettings> = {}): CheckSpec<IcmpSettings> {
  return {
    name: 'web-icmp',
    kind: 'icmp',
    target: { name: 'web', host: '192.0.2.1', group: '', labels: {} },
    schedule: { type: 'interval', intervalMs: 30_000 },
    timeoutMs: 5_000,
    settings: {
      count: 4,
      spacing: 10,
      packet_timeout: 1_000,
      payload_size: 56,
      ttl: 64,
      dont_fragment: false,
      tos: 0,
      ip_family: 'any',
      ips: 'all',
      ...settings,
    },
  };
}

/** Answers the i-th request with outcomes[i]. */
function net(outcomes: EchoOutcome[], requests: EchoRequest[] = []): NetDeps {
  let i = 0;
  return fakeNet({
    resolver: { resolve: async (host) => [{ address: host, family: 4 }] },
    icmp: {
      echo: async (req) => {
        requests.push(req);
        return outcomes[i++] ?? { status: 'timeout' };
      },
    },
  });
}

const reply = (ms: number, ttl = 60): EchoOutcome => ({
  status: 'reply',
  rttNs: BigInt(Math.round(ms * 1e6)),
  ttl,
  from: '192.0.2.1',
});

async function run(settings: Partial<IcmpSettings>, outcomes: EchoOutcome[], requests?: EchoRequest[]) {
  const clock = new FakeClock();
  const pending = icmpKind
    .create(spec(settings), net(outcomes, requests))
    .run({ signal: new AbortController().signal, clock, log });
  // Small steps: each spacing pause is set only after the previous request went out.
  for (let i = 0; i < 100; i++) await clock.advance(10);
  return (await pending)[0]!;
}

describe('ping check', () => {
  it('summarises replies: loss, RTT statistics, every RTT, reply TTL', async () => {
    const requests: EchoRequest[] = [];
    const result = await run(
      { ttl: 12, tos: 32, dont_fragment: true, payload_size: 100 },
      [reply(10), { status: 'timeout' }, reply(30, 55), reply(20)],
      requests,
    );
    expect(requests.map((r) => [r.address, r.ttl, r.tos, r.dontFragment, r.payloadSize])).toEqual(
      Array(4).fill(['192.0.2.1', 12, 32, true, 100]),
    );
    expect(result).toMatchObject({
      ok: true,
      error: null,
      sent: 4,
      received: 3,
      loss: 0.25,
      rttsMs: [10, 30, 20],
      replyTtl: 60,
    });
    expect(result.rttMs).toEqual({ min: 10, avg: 20, median: 20, max: 30, stddev: Math.sqrt(200 / 3) });
  });

  it('reports the duplicates the engine tallies for its probes, one tally per run', async () => {
    const requests: EchoRequest[] = [];
    let i = 0;
    const dupNet = fakeNet({
      resolver: { resolve: async (host) => [{ address: host, family: 4 }] },
      icmp: {
        echo: async (req) => {
          requests.push(req);
          // The engine adds one per further reply it sees to a finished probe.
          if (req.duplicates && i++ < 2) req.duplicates.count++;
          return reply(10);
        },
      },
    });
    const clock = new FakeClock();
    const pending = icmpKind
      .create(spec({ count: 3 }), dupNet)
      .run({ signal: new AbortController().signal, clock, log });
    for (let step = 0; step < 100; step++) await clock.advance(10);
    const [result] = await pending;
    expect(new Set(requests.map((r) => r.duplicates)).size).toBe(1);
    expect(result).toMatchObject({ received: 3, duplicates: 2 });
  });

  it.each([
    [[{ status: 'timeout' }], 'ICMP_NO_REPLY', /no reply from 192.0.2.1 to 1 echo request$/],
    [
      [{ status: 'unreachable', code: 1, rttNs: 1n, from: '198.18.7.2' }],
      'ICMP_UNREACHABLE',
      /destination unreachable \(host\) from 198.18.7.2/,
    ],
    [
      [{ status: 'time-exceeded', code: 0, rttNs: 1n, from: '198.18.2.2' }],
      'ICMP_TTL_EXCEEDED',
      /time to live exceeded at 198.18.2.2/,
    ],
    [
      [{ status: 'failed', failure: new CheckFailure('ICMP_UNAVAILABLE', 'needs CAP_NET_RAW', 'ping') }],
      'ICMP_UNAVAILABLE',
      /CAP_NET_RAW/,
    ],
  ] as Array<[EchoOutcome[], string, RegExp]>)(
    'fails with the right code when nothing answers (%#)',
    async (outcomes, code, message) => {
      const result = await run({ count: 1 }, outcomes);
      expect(result.ok).toBe(false);
      expect(result.error).toMatchObject({ code, phase: 'ping' });
      expect(result.error?.message).toMatch(message);
    },
  );

  it('reports replies from another address as their own finding, with address and RTT, never as no reply', async () => {
    const other = (ms: number): EchoOutcome => ({
      status: 'reply-other-address',
      rttNs: BigInt(Math.round(ms * 1e6)),
      ttl: 60,
      from: '198.18.9.9',
    });
    const result = await run({ count: 3 }, [other(1.5), other(2.5), { status: 'timeout' }]);
    expect(result).toMatchObject({ ok: false, sent: 3, received: 0, error: { code: 'ICMP_OTHER_ADDRESS' } });
    expect(result.loss).toBeCloseTo(1 / 3); // an answer from elsewhere is not a loss
    expect(result.otherAddressReplies).toEqual([
      { from: '198.18.9.9', rttMs: 1.5 },
      { from: '198.18.9.9', rttMs: 2.5 },
    ]);
    expect(result.error?.message).toMatch(/198\.18\.9\.9 answered 2 of 3 echo requests .*rtt 1\.500 ms 2\.500 ms/);
    // With the pinged address answering too, the run passes and still lists the others.
    const mixed = await run({ count: 2 }, [reply(1), other(2)]);
    expect(mixed).toMatchObject({ ok: true, received: 1, loss: 0, otherAddressReplies: [{ from: '198.18.9.9' }] });
  });

  it('refuses settings that cannot finish within the run timeout', () => {
    const problems = icmpKind.checkSettings(
      spec().target,
      spec({ count: 10, spacing: 500, packet_timeout: 1_000 }).settings,
      5_000,
    );
    expect(problems[0]?.message).toMatch(/take 5.5s: more than the run timeout \(5s\)/);
    expect(icmpKind.checkSettings(spec().target, spec({ count: 3 }).settings, 5_000)).toEqual([]);
  });

  it('rttStats: median of an even count, population stddev', () => {
    expect(rttStats([4, 1, 3, 2])).toEqual({ min: 1, avg: 2.5, median: 2.5, max: 4, stddev: Math.sqrt(1.25) });
    expect(rttStats([])).toBeNull();
  });
});
