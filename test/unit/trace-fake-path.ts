// The simulated paths of trace()'s unit tests (trace.test.ts, trace-memory.test.ts): every probe
// answered by its TTL after fake time.
import { trace } from '../../src/checks/traceroute/trace.js';
import type { PathRecall } from '../../src/checks/traceroute/trace.js';
import type { EchoOutcome, EchoRequest } from '../../src/net/icmp/echo.js';
import type { IcmpPort } from '../../src/net/net-deps.js';
import type { FakeClock } from '../helpers/fake-clock.js';

/** Eight routers, hop 5 silent; the destination is hop 9. */
export const eight = ['10.0.0.1', '10.0.1.1', '10.0.2.1', '10.0.3.1', null, '10.0.5.1', '10.0.6.1', '10.0.7.1'];

export interface PathSpec {
  /** Router addresses, hop 1 first; null for a router that sends no Time Exceeded. */
  routers: Array<string | null>;
  /**
   * How the destination (one hop after the last router) answers: reply, silence, or unreachable
   * from the last router.
   */
  destination: 'reply' | 'silent' | 'unreachable';
  rttMs: number;
  /** Round trips of single hops that differ from `rttMs` (a router whose errors leave late). */
  hopRttMs?: Record<number, number>;
  /** How long the port holds every probe before it goes out (a fresh engine opening its socket). */
  sendDelayMs?: number;
  /** Routers that answer only their first this many probes (rate-limited), by TTL. */
  answersFirst?: Record<number, number>;
}

/** A simulated path: answers each probe by its TTL after `rttMs` of fake time. */
export function fakePath(clock: FakeClock, path: PathSpec) {
  const requests: EchoRequest[] = [];
  const sentPerTtl = new Map<number, number>();
  const port: IcmpPort = {
    echo: (req) => {
      requests.push(req);
      return new Promise<EchoOutcome>((resolve) => {
        if (path.sendDelayMs) clock.setTimer(path.sendDelayMs, () => send(resolve));
        else send(resolve);
      });
      function send(resolve: (o: EchoOutcome) => void): void {
        req.onSent?.();
        const ttl = req.ttl ?? 64;
        const nth = (sentPerTtl.get(ttl) ?? 0) + 1;
        sentPerTtl.set(ttl, nth);
        const rttMs = path.hopRttMs?.[ttl] ?? path.rttMs;
        const rttNs = BigInt(rttMs * 1e6);
        let answer: EchoOutcome | undefined;
        if (ttl <= path.routers.length) {
          const router = path.routers[ttl - 1];
          if (router && nth <= (path.answersFirst?.[ttl] ?? Infinity))
            answer = { status: 'time-exceeded', code: 0, rttNs, from: router };
        } else if (path.destination === 'reply') {
          answer = { status: 'reply', rttNs, ttl: 60, from: req.address };
        } else if (path.destination === 'unreachable') {
          answer = { status: 'unreachable', code: 1, rttNs, from: path.routers.at(-1)! };
        }
        const cancelAnswer = answer ? clock.setTimer(rttMs, () => resolve(answer!)) : () => undefined;
        const cancelTimeout = clock.setTimer(req.timeoutMs, () => resolve({ status: 'timeout' }));
        req.signal?.addEventListener('abort', () => {
          cancelAnswer();
          cancelTimeout();
          resolve({ status: 'aborted' });
        });
      }
    },
  };
  return { port, requests };
}

export async function runTrace(
  clock: FakeClock,
  path: PathSpec,
  opts: { maxHops?: number; signal?: AbortSignal; stepsMs?: number; recall?: PathRecall } = {},
) {
  const { port, requests } = fakePath(clock, path);
  const progress: Array<[number, number]> = [];
  const started = clock.wallMs();
  let finished = 0;
  const result = trace(port, clock, {
    address: '192.0.2.99',
    family: 4,
    maxHops: opts.maxHops ?? 30,
    probesPerHop: 3,
    probeTimeoutMs: 1_000,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.recall ? { recall: opts.recall } : {}),
    onProgress: (done, total) => progress.push([done, total]),
  }).then((r) => {
    finished = clock.wallMs();
    return r;
  });
  for (let i = 0; i < (opts.stepsMs ?? 2_000); i++) await clock.advance(1);
  return { result: await result, elapsedMs: finished - started, requests, progress };
}
