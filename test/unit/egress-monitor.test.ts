import { describe, expect, it } from 'vitest';
import type { EgressAnswer } from '../../src/net/egress-lookup.js';
import { EgressMonitor } from '../../src/egress/egress-monitor.js';
import type { EgressChangeEvent } from '../../src/egress/egress-monitor.js';
import { createLogger } from '../../src/log.js';
import { FakeClock } from '../helpers/fake-clock.js';

const identity = { id: 'a1', region: 'eu', carrier: 'c', networkType: 'lab', labels: {} };
const urls = ['https://echo-1.example', 'https://echo-2.example'];

/** Echo services whose answers the test sets; records which lookups happened when. */
function setup() {
  const clock = new FakeClock();
  let answers: Record<string, string | null> = {};
  const asked: number[] = [];
  const looked: Array<string | null> = [];
  const changes: EgressChangeEvent[] = [];
  let forgotten = 0;
  const monitor = new EgressMonitor({
    clock,
    log: createLogger('silent'),
    identity: () => identity,
    ask: async (list): Promise<EgressAnswer[]> => {
      asked.push(clock.wallMs());
      return list.map((url) => ({ url, address: answers[url] ?? null, error: answers[url] ? null : 'refused' }));
    },
    looked: (address) => looked.push(address),
    changed: (event) => changes.push(event),
    forgotten: () => forgotten++,
  });
  return {
    clock,
    monitor,
    asked,
    looked,
    changes,
    forgotten: () => forgotten,
    answer: (a: Record<string, string | null>) => (answers = a),
  };
}

describe('EgressMonitor', () => {
  it('looks up at once and then every interval; the first service that answers decides', async () => {
    const t = setup();
    t.answer({ [urls[0]!]: null, [urls[1]!]: '198.18.0.5' });
    t.monitor.reconfigure({ urls, intervalMs: 60_000, timeoutMs: 1_000 });
    await t.clock.advance(0);
    expect(t.looked).toEqual(['198.18.0.5']);
    t.answer({ [urls[0]!]: '198.18.0.9', [urls[1]!]: '198.18.0.5' });
    await t.clock.advance(59_999);
    expect(t.asked).toHaveLength(1);
    await t.clock.advance(1);
    expect(t.asked).toHaveLength(2);
    expect(t.monitor.address).toBe('198.18.0.9');
  });

  it('reports a change between two answered lookups, not the first answer nor a failed lookup', async () => {
    const t = setup();
    t.answer({ [urls[0]!]: '198.18.0.5' });
    t.monitor.reconfigure({ urls, intervalMs: 1_000, timeoutMs: 1_000 });
    await t.clock.advance(0);
    t.answer({});
    await t.clock.advance(1_000);
    t.answer({ [urls[0]!]: '198.18.0.5' });
    await t.clock.advance(1_000);
    expect(t.changes).toEqual([]);
    t.answer({ [urls[0]!]: '2001:db8::7' });
    await t.clock.advance(1_000);
    expect(t.looked).toEqual(['198.18.0.5', null, '198.18.0.5', '2001:db8::7']);
    expect(t.changes).toHaveLength(1);
    expect(t.changes[0]).toMatchObject({
      event: 'egress_change',
      previous: '198.18.0.5',
      current: '2001:db8::7',
      agent: identity,
      time: new Date(t.clock.wallMs()).toISOString(),
    });
    expect(t.changes[0]!.eventId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('does nothing without URLs, keeps its schedule on an unchanged config and stops for good', async () => {
    const t = setup();
    t.monitor.reconfigure({ urls: [], intervalMs: 1_000, timeoutMs: 1_000 });
    await t.clock.advance(5_000);
    expect(t.asked).toEqual([]);
    t.answer({ [urls[0]!]: '198.18.0.5' });
    t.monitor.reconfigure({ urls, intervalMs: 1_000, timeoutMs: 1_000 });
    await t.clock.advance(0);
    await t.clock.advance(500);
    t.monitor.reconfigure({ urls: [...urls], intervalMs: 1_000, timeoutMs: 1_000 });
    await t.clock.advance(500);
    expect(t.asked.map((at) => at - t.asked[0]!)).toEqual([0, 1_000]);
    t.monitor.stop();
    await t.clock.advance(10_000);
    expect(t.asked).toHaveLength(2);
    expect(t.forgotten()).toBe(0);
    t.monitor.reconfigure({ urls: [], intervalMs: 1_000, timeoutMs: 1_000 });
    expect(t.forgotten()).toBe(1);
    expect(t.monitor.address).toBeUndefined();
  });

  it('keeps its schedule when a callback throws', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const monitor = new EgressMonitor({
      clock,
      log: createLogger('silent'),
      identity: () => identity,
      ask: async (list) => list.map((url) => ({ url, address: `198.18.0.${++calls}`, error: null })),
      looked: () => {
        throw new Error('metrics broke');
      },
      changed: () => undefined,
      forgotten: () => undefined,
    });
    monitor.reconfigure({ urls, intervalMs: 1_000, timeoutMs: 1_000 });
    await clock.advance(0);
    await clock.advance(3_000);
    // Four lookups (0, 1, 2, 3 s) of two services each.
    expect(calls).toBe(8);
  });
});
