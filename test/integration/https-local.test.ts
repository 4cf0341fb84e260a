import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusMatches } from '../../src/checks/https/https-check.js';
import { systemClock } from '../../src/clock.js';
import { RunDeadlineExceeded } from '../../src/errors.js';
import { HttpsClient, HttpsFailure } from '../../src/net/http/https-client.js';

const sockets = new Set<Socket>();
const hang = createServer((s) => {
  sockets.add(s);
  s.on('error', () => undefined);
});
const web = createHttpServer((req, res) => {
  // Status line and headers at once, the body 300 ms later: transfer must carry the pause.
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '4' });
  res.write('ab');
  setTimeout(() => res.end('cd'), 300);
});
let hangPort = 0;
let webPort = 0;

beforeAll(async () => {
  hang.listen(0, '127.0.0.1');
  web.listen(0, '127.0.0.1');
  await Promise.all([once(hang, 'listening'), once(web, 'listening')]);
  hangPort = (hang.address() as { port: number }).port;
  webPort = (web.address() as { port: number }).port;
});
afterAll(() => {
  for (const s of sockets) s.destroy();
  hang.close();
  web.close();
});

const client = new HttpsClient(systemClock);
function exchange(port: number, timeoutMs: number) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new RunDeadlineExceeded(timeoutMs)), timeoutMs);
  return client
    .exchange({
      url: new URL(`http://localhost:${port}/x`),
      ip: '127.0.0.1',
      method: 'GET',
      headers: {},
      httpVersion: '1.1',
      keepBodyBytes: 1024,
      signal: controller.signal,
    })
    .finally(() => clearTimeout(timer));
}

describe('HTTP exchange on loopback', () => {
  it('times each phase on one fresh connection and reads the body', async () => {
    const x = await exchange(webPort, 2_000);
    expect(x.status).toBe(200);
    expect(x.body.toString()).toBe('abcd');
    expect(x.phasesMs.connect).toBeGreaterThan(0);
    expect(x.phasesMs.request).toBeGreaterThanOrEqual(x.phasesMs.connect!);
    expect(x.phasesMs.firstByte).toBeGreaterThanOrEqual(x.phasesMs.request!);
    // The server's 300 ms pause inside the body lands in transfer. Its start is the moment the
    // headers were read, which a loaded event loop (shared with the server here) can delay: half
    // the pause tells the right phase from the wrong one. The stamps are cumulative from the
    // connection start, so the last one holds all of the pause (less the timer's 1 ms granularity).
    expect(x.phasesMs.transfer! - x.phasesMs.headers!).toBeGreaterThanOrEqual(150);
    expect(x.phasesMs.transfer).toBeGreaterThanOrEqual(299);
  });

  it('ends a server that accepts and never answers at the timeout, coded by phase, freeing the socket', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length - sockets.size;
    const started = performance.now();
    const err = await exchange(hangPort, 300).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpsFailure);
    expect(err).toMatchObject({ code: 'HTTP_TIMEOUT', phase: 'firstByte' });
    // At the timeout, not before it (an early give-up would also be HTTP_TIMEOUT) and not long after.
    expect(performance.now() - started).toBeGreaterThanOrEqual(299);
    expect(performance.now() - started).toBeLessThan(600);
    await new Promise((r) => setImmediate(r));
    expect(
      process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length - sockets.size,
    ).toBeLessThanOrEqual(before);
  });

  it.each([
    ['2xx', 204, true],
    ['2xx', 301, false],
    [301, 301, true],
    ['200-399', 302, true],
    ['200-399', 404, false],
  ] as Array<[string | number, number, boolean]>)('status rule %s against %d: %s', (rule, status, ok) => {
    expect(statusMatches(rule, status)).toBe(ok);
  });
});
