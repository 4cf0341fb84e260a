import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from '../config/agent-config.js';
import type { MetricRegistries } from '../metrics/registries.js';

/** What a handler behind the server answers. */
export interface EndpointReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface MetricsServer {
  /** The bound address (the real port when 0 was asked for). */
  readonly address: ListenAddress;
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  registries: MetricRegistries;
  listen: ListenAddress;
  /** Ready once a config is loaded and checks are scheduled. */
  isReady(): boolean;
  /** `/diagnose`; absent: 404. */
  diagnose?(query: URLSearchParams, wantsJson: boolean): Promise<EndpointReply>;
}

/** `/metrics` (Prometheus text, or OpenMetrics when the scraper asks for it), `/healthz`, `/readyz`, `/diagnose`. */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    handle(opts, req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`error: ${String(err)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listen.port, opts.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return { address: { host: bound.address, port: bound.port }, close: () => closeServer(server) };
}

async function handle(opts: MetricsServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://agent');
  const path = url.pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  switch (path) {
    case '/metrics': {
      const openMetrics = /application\/openmetrics-text/.test(req.headers.accept ?? '');
      const { body, contentType } = await opts.registries.render(openMetrics);
      res.writeHead(200, { 'content-type': contentType }).end(req.method === 'HEAD' ? undefined : body);
      return;
    }
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
      const wantsJson = url.searchParams.get('format') === 'json' || /application\/json/.test(req.headers.accept ?? '');
      const reply = await opts.diagnose(url.searchParams, wantsJson);
      res.writeHead(reply.status, reply.headers).end(req.method === 'HEAD' ? undefined : reply.body);
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

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
