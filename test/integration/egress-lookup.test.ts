import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askEgress } from '../../src/net/egress-lookup.js';

const server = createServer((req, res) => {
  switch (req.url) {
    case '/ip':
      res.writeHead(200, { 'content-type': 'text/plain' }).end('198.18.0.5\n');
      return;
    case '/portal':
      res.writeHead(302, { location: 'http://portal.example/login' }).end();
      return;
    case '/big':
      // A captive portal's page: far more than an address. Only the start may be read.
      res.writeHead(200, { 'content-type': 'text/html' });
      res.write(`<html>${'x'.repeat(64 * 1024)}`);
      return; // never ends
    case '/hang':
      return; // never answers
    default:
      res.writeHead(503).end();
  }
});
let base = '';

beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('askEgress against a local echo server', () => {
  it('takes a bare address, and names what is wrong with every other answer', async () => {
    const t0 = Date.now();
    const answers = await askEgress(
      [`${base}/ip`, `${base}/portal`, `${base}/big`, `${base}/hang`, `${base}/down`],
      500,
    );
    // /hang holds every lookup until its 500 ms timeout; none waits much longer.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(499);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(answers).toEqual([
      { url: `${base}/ip`, address: '198.18.0.5', error: null },
      {
        url: `${base}/portal`,
        address: null,
        error: 'HTTP 302 redirect to http://portal.example/login: give the final URL',
      },
      { url: `${base}/big`, address: null, error: expect.stringMatching(/^answered "<html>x+", not an address$/) },
      { url: `${base}/hang`, address: null, error: expect.stringMatching(/timeout|aborted/i) },
      { url: `${base}/down`, address: null, error: 'HTTP 503' },
    ]);
  });
});
