import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { diagnose } from '../../src/agent/diagnose-run.js';
import { createLogger } from '../../src/log.js';
import { systemNet } from '../../src/net/system-net.js';
import { refusedListener } from '../helpers/tcp-servers.js';
import type { Listener } from '../helpers/tcp-servers.js';

/**
 * The agent serves GET /diagnose with its own network deps and log. A report must leave both as
 * they were: no problem events for its failed steps, no addresses in the agent's address book
 * (which the agent's checks of a target with the same name would then probe for a day).
 */
describe('a diagnose report inside the agent', () => {
  let refused: Listener;
  beforeAll(async () => {
    refused = await refusedListener();
  });
  afterAll(async () => {
    await refused?.close();
  });

  it("logs no problem events and leaves the agent's address book alone", async () => {
    const lines: string[] = [];
    const log = createLogger(
      'info',
      new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }) as never,
    );
    const net = systemNet(systemClock);
    try {
      const report = await diagnose(
        ['localhost', `http://127.0.0.1:${refused.port}/`],
        {
          resolvers: [],
          count: 1,
          traceroute: 'never',
          timeoutMs: 2_000,
          egressUrls: [],
          signal: new AbortController().signal,
        },
        {
          net,
          clock: systemClock,
          log,
          identity: { id: 't', region: '', carrier: '', networkType: '', labels: {} },
        },
      );
      // The report did resolve localhost and did fail the refused URL ...
      expect(
        report.targets[0]!.dns.some((r) => r.ok && (r as { addresses?: string[] }).addresses?.includes('127.0.0.1')),
      ).toBe(true);
      expect(report.targets[1]!.https[0]).toMatchObject({ ok: false, error: { code: 'HTTP_CONNECT_REFUSED' } });
      // ... and none of it leaked into the agent.
      expect(lines.filter((l) => l.includes('"event":"problem"'))).toEqual([]);
      expect(net.addressBook?.lookup('localhost', 'ipv4')).toBeUndefined();
    } finally {
      net.icmp.close();
    }
  });
});
