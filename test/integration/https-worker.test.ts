import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { abortedByDeadline, RunCancelled, RunDeadlineExceeded } from '../../src/errors.js';
import { HttpsClient } from '../../src/net/http/https-client.js';
import { HttpsFailure } from '../../src/net/http/https-failure.js';
import type { HttpsExchange, HttpsRequest } from '../../src/net/http/https-exchange.js';
import { HttpsWorkerClient } from '../../src/net/http/https-worker-client.js';
import { throwawayCertificate } from '../../src/net/http/throwaway-cert.js';

// The agent's HTTPS exchanges on their worker thread (https-worker-client.ts), against real
// servers on 127.0.0.1: the worker is the built one (npm test builds dist/ first).
const WORKER = new URL('../../dist/net/http/https-worker.js', import.meta.url);
const { cert, key } = throwawayCertificate();

/** The HTTPS server, in a process of its own: the test blocks its own thread on purpose. */
const WEB_SERVER = `const { cert, key } = JSON.parse(process.argv[1]);
const server = require('node:https').createServer({ cert, key }, (req, res) => res.end('hello from ' + req.url));
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));`;
let web: ChildProcess | undefined;
/** Accepts TCP and never speaks TLS; keeps the server side of each connection to see it closed. */
const silentSockets: Socket[] = [];
const silent = createServer((s) => {
  silentSockets.push(s);
  s.on('error', () => undefined);
  s.resume();
});
let webPort = 0;
let silentPort = 0;
let scratch = '';
const clients: HttpsWorkerClient[] = [];

beforeAll(async () => {
  web = spawn(process.execPath, ['-e', WEB_SERVER, JSON.stringify({ cert, key })], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  silent.listen(0, '127.0.0.1');
  const [[line]] = (await Promise.all([once(web.stdout ?? web, 'data'), once(silent, 'listening')])) as [
    [Buffer],
    unknown,
  ];
  webPort = Number(line.toString().trim());
  silentPort = (silent.address() as { port: number }).port;
  scratch = mkdtempSync(join(tmpdir(), 'vantage-https-worker-'));
});
afterAll(() => {
  for (const client of clients) client.close();
  for (const s of silentSockets) s.destroy();
  web?.kill();
  silent.close();
  rmSync(scratch, { recursive: true, force: true });
});

function client(script: URL = WORKER): HttpsWorkerClient {
  const made = new HttpsWorkerClient(script);
  clients.push(made);
  return made;
}

function request(port: number, path: string, signal: AbortSignal = new AbortController().signal): HttpsRequest {
  return {
    url: new URL(`https://127.0.0.1:${port}${path}`),
    ip: '127.0.0.1',
    method: 'GET',
    headers: {},
    httpVersion: '1.1',
    maxBodyBytes: 1024,
    ca: cert,
    signal,
  };
}

/** The worker let go of the `index`-th silent connection: the server sees its end of it close. */
async function closedByTheWorker(index: number): Promise<void> {
  const serverSide = silentSockets[index];
  expect(serverSide).toBeDefined();
  if (serverSide && !serverSide.destroyed && serverSide.readable) await once(serverSide, 'close');
}

/**
 * An exchange with the silent server (it never handshakes) on a warmed worker, its run's signal
 * aborted with `reason` after `ms`; `before` is the index of its connection among the server's.
 */
async function stoppedAfter(
  ms: number,
  reason: Error,
): Promise<{ run: AbortController; exchange: Promise<HttpsExchange>; before: number }> {
  const https = client();
  await https.warmed;
  const before = silentSockets.length;
  const run = new AbortController();
  const exchange = https.exchange(request(silentPort, '/', run.signal));
  setTimeout(() => run.abort(reason), ms);
  return { run, exchange, before };
}

/** Holds this thread for `ms`: an in-process client could not move meanwhile. */
function blockThread(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('HTTPS exchanges on a worker thread', () => {
  it('brings back the exchange whole: status, body as a Buffer, verified TLS, phases in order', async () => {
    const https = client();
    await https.warmed;
    const got = await https.exchange(request(webPort, '/first'));
    expect(got.status).toBe(200);
    expect(Buffer.isBuffer(got.body)).toBe(true);
    expect(got.body.toString()).toBe('hello from /first');
    expect(got.tls?.authorized).toBe(true);
    const { connect, tls, firstByte, transfer } = got.phasesMs;
    expect([connect, tls, firstByte, transfer].every((ms) => typeof ms === 'number')).toBe(true);
    expect(connect ?? 0).toBeLessThanOrEqual(tls ?? 0);
    expect(tls ?? 0).toBeLessThanOrEqual(firstByte ?? 0);
  });

  it('handshakes while the calling thread is busy, so a run elsewhere on it is not what it waits for', async () => {
    const https = client();
    await https.warmed;
    const exchange = https.exchange(request(webPort, '/busy'));
    // 300 ms of this thread taken: the worker's phases do not include it (in-process they would).
    blockThread(300);
    const got = await exchange;
    expect(got.body.toString()).toBe('hello from /busy');
    expect(got.phasesMs.transfer).toBeLessThan(150);
  });

  it("fails at the run's deadline with the kind's code and phase, and closes the connection", async () => {
    const { run, exchange, before } = await stoppedAfter(300, new RunDeadlineExceeded(300));
    const err = await exchange.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HttpsFailure);
    const failure = err as HttpsFailure;
    expect(abortedByDeadline(run.signal)).toBe(true);
    expect([failure.code, failure.phase]).toEqual(['TLS_HANDSHAKE', 'tls']);
    expect(failure.phasesMs.connect).toBeTypeOf('number');
    await closedByTheWorker(before);
  });

  it('reports a cancelled run as ABORTED at once, not as a fault of the target, and lets go of it', async () => {
    const { exchange, before } = await stoppedAfter(200, new RunCancelled('the agent stops'));
    const t0 = performance.now();
    await expect(exchange).rejects.toMatchObject({ code: 'ABORTED', phase: 'tls' });
    // The worker's answer, not the 2 s fallback (which would say phase connect).
    expect(performance.now() - t0).toBeLessThan(1_000);
    await closedByTheWorker(before);
  });

  it('fails an exchange whose run was stopped before it began, without a connection', async () => {
    const before = silentSockets.length;
    const run = new AbortController();
    run.abort(new RunDeadlineExceeded(1000));
    // In-process too: the client once added its abort listener to a signal already aborted, and ran on.
    const inProcess = new HttpsClient(systemClock);
    await inProcess.warmed;
    await expect(inProcess.exchange(request(silentPort, '/', run.signal))).rejects.toMatchObject({
      code: 'HTTP_TIMEOUT',
    });
    await expect(client().exchange(request(silentPort, '/', run.signal))).rejects.toMatchObject({
      code: 'HTTP_TIMEOUT',
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(silentSockets.length).toBe(before);
  });

  it('fails what a dying worker held with INTERNAL, and the next exchange gets a new worker', async () => {
    // The real worker, except that a request for /die ends its thread. Its own listener is added
    // second, by a static import: a listener added after an await could miss the first message.
    const dying = join(scratch, 'dying-worker.mjs');
    writeFileSync(
      dying,
      `import ${JSON.stringify(WORKER.href)};
import { parentPort } from 'node:worker_threads';
parentPort.on('message', (m) => { if (m.op === 'exchange' && m.request.url.endsWith('/die')) process.exit(3); });
`,
    );
    const https = client(pathToFileURL(dying));
    await https.warmed;
    await expect(https.exchange(request(webPort, '/die'))).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringContaining('exit code 3') as unknown,
    });
    const got = await https.exchange(request(webPort, '/after'));
    expect(got.body.toString()).toBe('hello from /after');
  });

  it('backs off a worker that cannot start: its exchanges fail at once, without a thread each', async () => {
    const https = client(pathToFileURL(join(scratch, 'no-such-worker.mjs')));
    await expect(https.exchange(request(webPort, '/'))).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringContaining('could not start') as unknown,
    });
    const t0 = performance.now();
    await expect(https.exchange(request(webPort, '/'))).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(performance.now() - t0).toBeLessThan(20);
  });

  it('keeps a process alive while it waits for the worker, and lets it exit once idle', async () => {
    const client = new URL('../../dist/net/http/https-worker-client.js', import.meta.url);
    const script = `const { HttpsWorkerClient } = await import(${JSON.stringify(client.href)});
const https = new HttpsWorkerClient();
await https.warmed;
const got = await https.exchange({ url: new URL('https://127.0.0.1:${webPort}/script'), ip: '127.0.0.1', method: 'GET',
  headers: {}, httpVersion: '1.1', maxBodyBytes: 100, ca: process.env.CA, signal: new AbortController().signal });
console.log(got.body.toString());`;
    // A file, not -e: a worker inherits node's flags, and --input-type is refused outside -e.
    const file = join(scratch, 'one-exchange.mjs');
    writeFileSync(file, script);
    const child = spawn(process.execPath, [file], {
      env: { ...process.env, CA: cert },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const timer = setTimeout(() => child.kill(), 10_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    // 13: Node gave up on a pending top-level await (nothing kept the process alive); null: killed, hung.
    expect({ code, out: out.trim() }).toEqual({ code: 0, out: 'hello from /script' });
  });
});
