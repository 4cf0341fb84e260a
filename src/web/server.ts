import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { ListenAddress } from '../config/agent-config.js';
import { AGENT_METRICS } from '../metrics/catalogue.js';
import type { MetricRegistries, Scrape } from '../metrics/registries.js';
import { DEFAULT_WEB_SERVER } from '../settings/web-config-keys.js';
import type { WebServerConfig } from '../settings/web-config-keys.js';
import { BasicAuth } from './basic-auth.js';
import { CHECK_INTERVAL_MS, WebListener } from './listener.js';
import { PLAIN_WEB_CONFIG } from './web-config-shape.js';
import type { WebConfig } from './web-config-shape.js';

/** What a handler behind the server answers. */
export interface EndpointReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface MetricsServer {
  /** The bound address (the real port when 0 was asked for). */
  readonly address: ListenAddress;
  /** Applies a reloaded config's `web:` limits. */
  setLimits(limits: WebServerConfig): void;
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  registries: MetricRegistries;
  listen: ListenAddress;
  /** Ready once a config is loaded and checks are scheduled. */
  isReady(): boolean;
  /** `/diagnose`; absent: 404. */
  diagnose?(query: URLSearchParams, wantsJson: boolean): Promise<EndpointReply>;
  /** The status pages (`/`, `/targets/NAME`): a reply, or undefined for a path they do not serve. */
  pages?(path: string): EndpointReply | undefined;
  /** `/fastest?set=NAME` (src/ranking/); absent: 404. */
  fastest?(query: URLSearchParams): EndpointReply;
  /** The web config in force (TLS, basic auth, headers), read per connection and request. Default: plain HTTP. */
  webConfig?(): WebConfig;
  /** Connection cap and timeouts. Default: the `web:` section's defaults. */
  limits?: WebServerConfig;
}

/**
 * `/metrics` (Prometheus text, or OpenMetrics when the scraper asks for it), `/healthz`, `/readyz`,
 * `/diagnose`, behind the web config (TLS per connection, then headers and basic auth on every
 * path but those it exempts) and the listener's limits.
 */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const webConfig = opts.webConfig ?? (() => PLAIN_WEB_CONFIG);
  const auth = new BasicAuth();
  const http = createServer({ connectionsCheckingInterval: CHECK_INTERVAL_MS }, (req, res) => {
    handle(opts, webConfig(), auth, req, res).catch((err: unknown) => {
      // Once a streamed body has begun, the only way left to say it failed is to cut it short.
      if (res.headersSent) res.destroy();
      else res.writeHead(500, { 'content-type': 'text/plain' }).end(`error: ${String(err)}\n`);
    });
  });
  const dropped = opts.registries.counter(AGENT_METRICS.webConnectionsRejected);
  const listener = new WebListener(http, webConfig, () => dropped.inc());
  const address = await listener.listen(opts.listen, opts.limits ?? DEFAULT_WEB_SERVER);
  return { address, setLimits: (limits) => listener.setLimits(limits), close: () => listener.close() };
}

async function handle(
  opts: MetricsServerOptions,
  web: WebConfig,
  auth: BasicAuth,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  for (const [name, value] of Object.entries(web.headers)) res.setHeader(name, value);
  const url = requestUrl(req.url);
  if (!url) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request target\n');
    return;
  }
  const path = url.pathname;
  if (
    web.users.size > 0 &&
    !web.authExcludedPaths.has(path) &&
    !(await auth.check(web.users, req.headers.authorization))
  ) {
    res.writeHead(401, { 'www-authenticate': 'Basic', 'content-type': 'text/plain' }).end('Unauthorized\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const pageReply = opts.pages?.(path);
  if (pageReply) {
    res.writeHead(pageReply.status, pageReply.headers).end(req.method === 'HEAD' ? undefined : pageReply.body);
    return;
  }
  switch (path) {
    case '/metrics':
      await serveMetrics(opts.registries, req, res);
      return;
    case '/healthz':
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    case '/readyz': {
      const ready = opts.isReady();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready\n');
      return;
    }
    case '/diagnose': {
      if (!opts.diagnose) break;
      // A report sends real traffic and takes the rate-limit slot: HEAD, which promises no side
      // effects, must not start one.
      if (req.method === 'HEAD') {
        res.writeHead(405, { allow: 'GET' }).end();
        return;
      }
      const wantsJson = url.searchParams.get('format') === 'json' || /application\/json/.test(req.headers.accept ?? '');
      const reply = await opts.diagnose(url.searchParams, wantsJson);
      res.writeHead(reply.status, reply.headers).end(reply.body);
      return;
    }
    case '/fastest': {
      if (!opts.fastest) break;
      const reply = opts.fastest(url.searchParams);
      res.writeHead(reply.status, reply.headers).end(reply.body);
      return;
    }
    case '/':
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(
          '<h1>Vantage</h1><p><a href="/metrics">/metrics</a> <a href="/healthz">/healthz</a> <a ' +
            'href="/readyz">/readyz</a></p>\n',
        );
      return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
}

/**
 * The request target as a URL. An origin-form target (`/metrics?x`) is taken as a path, never
 * as a URL reference: `//metrics` is the path `//metrics` (404), not the host `metrics` with
 * path `/`. Absolute-form (`http://host/metrics`) is read as HTTP/1.1 says; anything else is undefined.
 */
export function requestUrl(target: string | undefined): URL | undefined {
  const text = target ?? '/';
  try {
    const url = text.startsWith('/') ? new URL(`http://agent${text}`) : new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Gzip level of /metrics: 1, the fastest, since exposition text is so repetitive that level 6
 * saves only a few percent more (bench/metrics-exposition.mjs prints both) for about twice the CPU.
 */
const GZIP_LEVEL = 1;

/**
 * `/metrics`: OpenMetrics when the scraper accepts it, else Prometheus text; gzip when the scraper
 * accepts it. The body is streamed as it is produced, with backpressure (a slow scraper holds the
 * render back rather than the agent's memory filling up); zlib compresses on the libuv pool, off
 * the event loop.
 */
async function serveMetrics(registries: MetricRegistries, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const openMetrics = /application\/openmetrics-text/.test(req.headers.accept ?? '');
  const gzip = acceptsGzip(req.headers['accept-encoding']);
  const scrape = await registries.scrape(openMetrics);
  res.writeHead(200, {
    'content-type': scrape.contentType,
    vary: 'accept-encoding',
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  await streamScrape(scrape, res, gzip);
}

/**
 * Writes a scrape's body to `dest` (through gzip when asked) and ends it. Each chunk goes back to
 * the scrape once its write callback says it is written, so a scrape reuses a few buffers instead
 * of allocating its whole body; the next chunk is produced only when `dest` has room. Rejects when
 * `dest` closes or fails first (the scraper went away); the body is then abandoned.
 */
export async function streamScrape(scrape: Scrape, dest: Writable, gzip: boolean): Promise<void> {
  if (!gzip) {
    const done = finished(dest);
    // Handled from the start: the scraper may go away while the body is still being produced,
    // long before the await below, and an unhandled rejection would end the agent.
    done.catch(() => undefined);
    try {
      await writeChunks(scrape, dest);
    } catch (err) {
      dest.destroy();
      await done.catch(() => undefined);
      throw err;
    }
    await done;
    return;
  }
  // node:zlib at the first gzip scrape, not in every start-up before /metrics answers (Node >= 20.16).
  const zip = process.getBuiltinModule('node:zlib').createGzip({ level: GZIP_LEVEL, chunkSize: 64 * 1024 });
  const delivered = pipeline(zip, dest);
  delivered.catch(() => undefined);
  try {
    await writeChunks(scrape, zip);
  } catch (err) {
    zip.destroy();
    await delivered.catch(() => undefined);
    throw err;
  }
  await delivered;
}

async function writeChunks(scrape: Scrape, dest: Writable): Promise<void> {
  for await (const chunk of scrape.body) {
    if (dest.destroyed) throw new Error('the scraper went away before the body was written');
    if (!dest.write(chunk, () => scrape.release(chunk))) await drained(dest);
  }
  dest.end();
}

/** Resolves on 'drain'; rejects if `dest` closes or fails first. */
function drained(dest: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (err?: Error): void => {
      dest.off('drain', onDrain);
      dest.off('close', onClose);
      dest.off('error', settle);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => settle();
    const onClose = (): void => settle(new Error('the scraper went away before the body was written'));
    dest.on('drain', onDrain);
    dest.on('close', onClose);
    dest.on('error', settle);
  });
}

/** Whether `Accept-Encoding` allows gzip: `gzip` (or `*`) listed without `q=0`. */
export function acceptsGzip(header: string | undefined): boolean {
  let star = false;
  for (const part of (header ?? '').toLowerCase().split(',')) {
    const [coding = '', ...params] = part.split(';').map((p) => p.trim());
    const q = params.find((p) => p.startsWith('q='));
    const allowed = q === undefined || Number(q.slice(2)) > 0;
    if (coding === 'gzip' || coding === 'x-gzip') return allowed;
    if (coding === '*') star = allowed;
  }
  return star;
}
