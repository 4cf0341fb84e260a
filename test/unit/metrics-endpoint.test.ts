import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { MetricDef } from '../../src/metrics/catalogue.js';
import { MetricRegistries } from '../../src/metrics/registries.js';
import { acceptsGzip, startMetricsServer } from '../../src/web/server.js';
import type { MetricsServer, MetricsServerOptions } from '../../src/web/server.js';
import { DEFAULT_WEB_SERVER } from '../../src/settings/web-config-keys.js';
import type { WebServerConfig } from '../../src/settings/web-config-keys.js';

describe('acceptsGzip', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['identity', false],
    ['gzip', true],
    ['GZIP', true],
    ['x-gzip', true],
    ['gzip, deflate, br', true],
    ['br;q=1.0, gzip;q=0.8', true],
    ['gzip;q=0', false],
    ['gzip; q=0.0', false],
    ['deflate, *;q=0.1', true],
    ['*;q=0', false],
    ['gzip;q=0, *', false],
  ])('%j -> %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});

const GAUGE = { name: 'probe_thing', type: 'gauge', help: 'A gauge.', labels: ['check', 'ip'] } as MetricDef;
const servers: MetricsServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** A server whose store holds `owners` checks (about 100 bytes each), scraped in slices of 0 ms. */
async function serve(owners: number): Promise<{ port: number; registries: MetricRegistries }> {
  const registries = new MetricRegistries({ processMetrics: false, sliceMs: 0, restMs: 0 });
  registries.setDefaultLabels({ agent: 'a1' });
  const g = registries.series.family(GAUGE);
  for (let i = 0; i < owners; i++)
    registries.series
      .owner(`c${i}`)
      .begin(0)
      .set(g, [`c${i}`, '192.0.2.1'], i)
      .end();
  registries.counter({ name: 'agent_reloads_total', type: 'counter', help: 'R.', labels: [] }).inc();
  const server = await startMetricsServer({ registries, listen: { host: '127.0.0.1', port: 0 }, isReady: () => true });
  servers.push(server);
  return { port: server.address.port, registries };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function get(port: number, headers: Record<string, string>, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('/metrics', () => {
  it('gzips the body when the scraper accepts gzip, and only then; the series are the same', async () => {
    // About 2 MB: chunks are written, released and filled again several times per scrape.
    const { port, registries } = await serve(20_000);
    const plain = await get(port, {});
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('accept-encoding');
    expect(plain.body.toString()).toBe((await registries.render(false)).body);
    const zipped = await get(port, { 'accept-encoding': 'gzip, deflate' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.body).toString()).toBe(plain.body.toString());
    expect(zipped.body.length).toBeLessThan(plain.body.length / 5);
    expect(plain.body.toString()).toContain('probe_thing{check="c19999",ip="192.0.2.1",agent="a1"} 19999\n');
  });

  it('serves OpenMetrics (gzipped too) ending in # EOF, with its content type', async () => {
    const { port } = await serve(100);
    const om = await get(port, { accept: 'application/openmetrics-text; version=1.0.0', 'accept-encoding': 'gzip' });
    expect(om.headers['content-type']).toMatch(/^application\/openmetrics-text; version=1.0.0/);
    const text = gunzipSync(om.body).toString();
    expect(text).toContain('agent_reloads_total{agent="a1"} 1\n');
    expect(text.endsWith('_total{agent="a1"} 0\n# EOF\n')).toBe(true);
    expect(text).toContain('# TYPE agent_reloads counter\n');
    expect(text).not.toContain('\n\n');
  });

  it('answers HEAD with the headers only', async () => {
    const { port } = await serve(10);
    const head = await get(port, { 'accept-encoding': 'gzip' }, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    expect(head.body.length).toBe(0);
  });

  it('survives a scraper that hangs up mid-body, and serves the next one whole', async () => {
    const { port, registries } = await serve(20_000);
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve() : reject(err)));
      req.end();
    });
    const next = await get(port, {});
    expect(next.status).toBe(200);
    expect(next.body.toString()).toBe((await registries.render(false)).body);
  });
});

describe('streamScrape when the scraper goes away between chunks', () => {
  it.each([false, true])('ends quietly, gzip %s: a rejection, never an unhandled one', async (gzip) => {
    const { streamScrape } = await import('../../src/web/server.js');
    const { PassThrough } = await import('node:stream');
    const dest = new PassThrough();
    dest.resume();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    async function* body(): AsyncGenerator<Buffer> {
      yield Buffer.from('probe_success 1\n');
      // The scraper hangs up while the next chunk is being produced.
      dest.destroy();
      await new Promise((resolve) => setTimeout(resolve, 20));
      yield Buffer.from('probe_success 0\n');
    }
    const scrape = { contentType: 'text/plain', body: body(), release: () => undefined };
    try {
      await expect(streamScrape(scrape, dest, gzip)).rejects.toThrow();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

/** A server with short limits, so the tests can watch them act within a few seconds. */
async function serveLimited(
  limits: Partial<WebServerConfig>,
  diagnose?: MetricsServerOptions['diagnose'],
): Promise<{ port: number }> {
  const registries = new MetricRegistries({ processMetrics: false, sliceMs: 0, restMs: 0 });
  const server = await startMetricsServer({
    registries,
    listen: { host: '127.0.0.1', port: 0 },
    isReady: () => true,
    ...(diagnose ? { diagnose } : {}),
    limits: { ...DEFAULT_WEB_SERVER, ...limits },
  });
  servers.push(server);
  return { port: server.address.port };
}

interface RawExchange {
  /** Everything the server sent. */
  text: string;
  /** Milliseconds from connect until the server closed, or undefined if it was still open at `boundMs`. */
  closedAfterMs: number | undefined;
}

/** Connects, writes `chunks` (one every `everyMs`), and reads until the server closes or `boundMs` passes. */
function rawExchange(port: number, chunks: readonly string[], everyMs: number, boundMs: number): Promise<RawExchange> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let i = 0;
    const writeNext = (): void => {
      const chunk = chunks[i++];
      if (chunk !== undefined && socket.writable) socket.write(chunk);
    };
    const writer = setInterval(writeNext, everyMs);
    const bound = setTimeout(() => finish(undefined), boundMs);
    const finish = (closedAfterMs: number | undefined): void => {
      clearInterval(writer);
      clearTimeout(bound);
      socket.destroy();
      resolve({ text, closedAfterMs });
    };
    socket.on('connect', writeNext);
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => finish(performance.now() - started));
  });
}

describe('the listener under abuse (issue 18)', () => {
  it('closes a slowloris client (a header byte every 200 ms) and a silent one within header_timeout', async () => {
    const { port } = await serveLimited({ headerTimeoutMs: 1_000 });
    const trickle = ['GET /metrics HTTP/1.1\r\n', ...Array.from({ length: 40 }, () => 'X')];
    const [slow, silent] = await Promise.all([
      rawExchange(port, trickle, 200, 5_000),
      rawExchange(port, [], 200, 5_000),
    ]);
    // header_timeout plus the once-a-second check; today's Node defaults held them 60-90 s.
    expect(slow.closedAfterMs).toBeLessThan(3_000);
    expect(silent.closedAfterMs).toBeLessThan(3_000);
  });

  it('closes an idle keep-alive connection after idle_timeout', async () => {
    const { port } = await serveLimited({ idleTimeoutMs: 1_000 });
    const idle = await rawExchange(port, ['GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n'], 10, 4_000);
    expect(idle.text).toMatch(/^HTTP\/1\.1 200/);
    expect(idle.closedAfterMs).toBeLessThan(2_500);
  });

  it('closes connections past max_connections on accept and counts them; scrapes work again once they go', async () => {
    const { port } = await serveLimited({ maxConnections: 5 });
    const held = await Promise.all(
      Array.from({ length: 10 }, () => rawExchange(port, ['GET /healthz HTTP/1.1\r\nHost: a\r\n'], 10, 1_000)),
    );
    // Five wait for the rest of their head (cut at the bound); five were closed at once.
    expect(held.filter((h) => h.closedAfterMs !== undefined && h.closedAfterMs < 500)).toHaveLength(5);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const body = (await get(port, {})).body.toString();
    expect(body).toContain('vantage_web_connections_rejected_total 5\n');
  });

  it('HEAD /diagnose runs no report and leaves the rate-limit slot; GET runs one', async () => {
    let reports = 0;
    const { port } = await serveLimited({}, () => {
      reports++;
      return Promise.resolve({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'report\n' });
    });
    const head = await rawExchange(
      port,
      ['HEAD /diagnose?target=a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'],
      10,
      2_000,
    );
    expect(head.text).toMatch(/^HTTP\/1\.1 405/);
    expect(head.text).toMatch(/\r\nallow: GET\r\n/i);
    expect(reports).toBe(0);
    const got = await rawExchange(
      port,
      ['GET /diagnose?target=a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'],
      10,
      2_000,
    );
    expect(got.text).toMatch(/^HTTP\/1\.1 200/);
    expect(reports).toBe(1);
  });

  it.each([
    ['GET //metrics HTTP/1.1', /^HTTP\/1\.1 404/],
    ['GET //metrics/ HTTP/1.1', /^HTTP\/1\.1 404/],
    ['GET /metrics?x=1 HTTP/1.1', /^HTTP\/1\.1 200[^]*version=0\.0\.4/],
    ['GET http://agent/metrics HTTP/1.1', /^HTTP\/1\.1 200[^]*version=0\.0\.4/],
    ['GET / HTTP/1.1', /^HTTP\/1\.1 200[^]*<h1>Vantage/],
    ['POST /metrics HTTP/1.1', /^HTTP\/1\.1 405[^]*allow: GET, HEAD/i],
    ['GET /nothing HTTP/1.1', /^HTTP\/1\.1 404/],
    ['GARBAGE', /^HTTP\/1\.1 400/],
    [`GET /metrics HTTP/1.1\r\nX-Big: ${'a'.repeat(80 * 1024)}`, /^HTTP\/1\.1 431/],
  ])('%s -> %s', async (head, expected) => {
    const { port } = await serveLimited({});
    const reply = await rawExchange(port, [`${head}\r\nHost: a\r\nConnection: close\r\n\r\n`], 10, 3_000);
    expect(reply.text).toMatch(expected);
  });
});
