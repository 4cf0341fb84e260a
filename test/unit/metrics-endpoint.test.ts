import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { MetricDef } from '../../src/metrics/catalogue.js';
import { MetricRegistries } from '../../src/metrics/registries.js';
import { acceptsGzip, startMetricsServer } from '../../src/web/server.js';
import type { MetricsServer } from '../../src/web/server.js';

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
  const registries = new MetricRegistries({ processMetrics: false, sliceMs: 0 });
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
    expect(text.endsWith('agent_reloads_total{agent="a1"} 1\n# EOF\n')).toBe(true);
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
