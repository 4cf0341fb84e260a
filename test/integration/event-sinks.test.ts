import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { FileSink, HttpSink } from '../../src/report/event-sinks.js';
import type { ProblemEvent } from '../../src/report/problem-event.js';

const log = createLogger('silent');
const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

function event(n: number): ProblemEvent {
  return {
    event: 'problem',
    eventId: `id-${n}`,
    startedAt: new Date(0).toISOString(),
    agent: { id: 'a', region: '', carrier: '', networkType: '', labels: {} },
    check: 'c',
    kind: 'tcp',
    target: 't',
    group: '',
    host: 'h',
    ip: null,
    code: 'TCP_TIMEOUT',
    phase: 'connect',
    message: `event ${n}`,
    hint: '',
    durationMs: 1,
    evidence: {},
  };
}

/** A collector that answers 500 to its first `failures` requests. */
async function collector(failures: number): Promise<{ url: string; received: string[]; requests: () => number }> {
  const received: string[] = [];
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (requests <= failures) {
        res.writeHead(500).end();
        return;
      }
      for (const e of JSON.parse(Buffer.concat(chunks).toString()) as ProblemEvent[]) received.push(e.eventId);
      res.writeHead(204).end();
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/events`,
    received,
    requests: () => requests,
  };
}

const options = (url: string, maxQueue = 1000) => ({
  url,
  headers: {},
  batchSize: 7,
  flushIntervalMs: 10,
  maxQueue,
  backoffMs: 20,
  maxBackoffMs: 200,
  requestTimeoutMs: 1000,
});

describe('HTTP event sink', () => {
  it('delivers every event exactly once and in order through a sink that fails, then recovers', async () => {
    const sink = await collector(4);
    const http = new HttpSink(options(sink.url), systemClock, log);
    for (let i = 0; i < 50; i++) http.send(event(i));
    const deadline = Date.now() + 5_000;
    while (sink.received.length < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await http.close(1_000);
    expect(sink.received).toEqual(Array.from({ length: 50 }, (_, i) => `id-${i}`));
    expect(sink.requests()).toBeGreaterThan(4 + 50 / 7);
    expect(http.dropped()).toBe(0);
  });

  it('caps its queue when the sink never recovers, and counts what it drops', async () => {
    const sink = await collector(Number.POSITIVE_INFINITY);
    const http = new HttpSink(options(sink.url, 10), systemClock, log);
    for (let i = 0; i < 100; i++) http.send(event(i));
    expect(http.queued()).toBe(10);
    expect(http.dropped()).toBe(90);
    await new Promise((r) => setTimeout(r, 100));
    await http.close(100);
    expect(sink.received).toEqual([]);
    // Closing with events still queued counts them: nothing disappears uncounted.
    expect(http.queued()).toBe(0);
    expect(http.dropped()).toBe(100);
  });

  it('backs off from a failing collector instead of posting once per event', async () => {
    const sink = await collector(Number.POSITIVE_INFINITY);
    const http = new HttpSink({ ...options(sink.url), backoffMs: 400, maxBackoffMs: 400 }, systemClock, log);
    const started = performance.now();
    for (let i = 0; i < 60; i++) {
      http.send(event(i));
      await new Promise((r) => setTimeout(r, 5));
    }
    // One failed post, then one more per 400 ms back-off at most, however long a loaded machine
    // took over the loop; without the back-off it would post every few events.
    const elapsed = performance.now() - started;
    expect(sink.requests()).toBeGreaterThanOrEqual(1);
    expect(sink.requests()).toBeLessThanOrEqual(1 + Math.ceil(elapsed / 400));
    expect(sink.requests()).toBeLessThan(10);
    await http.close(0);
  });

  it('drains on close while a post is in flight, and a hanging collector cannot stretch the deadline', async () => {
    let release: (() => void) | undefined;
    const healthy = await collector(0);
    const gate = createServer((req, res) => {
      req.resume();
      release = () => res.writeHead(204).end();
    });
    servers.push(gate);
    gate.listen(0, '127.0.0.1');
    await once(gate, 'listening');

    const draining = new HttpSink(options(healthy.url), systemClock, log);
    for (let i = 0; i < 20; i++) draining.send(event(i));
    await draining.close(2_000);
    expect(healthy.received).toEqual(Array.from({ length: 20 }, (_, i) => `id-${i}`));

    const hanging = new HttpSink(
      { ...options(`http://127.0.0.1:${(gate.address() as { port: number }).port}/`), requestTimeoutMs: 10_000 },
      systemClock,
      log,
    );
    for (let i = 0; i < 3; i++) hanging.send(event(i));
    const t0 = Date.now();
    await hanging.close(300);
    expect(Date.now() - t0).toBeLessThan(1_500);
    expect(hanging.dropped()).toBe(3);
    release?.();
  });
});

describe('file event sink', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('appends JSON lines and rotates by size, keeping max_files files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vantage-sink-'));
    dirs.push(dir);
    const path = join(dir, 'events.jsonl');
    const sink = new FileSink(path, 2_000, 3, log);
    for (let i = 0; i < 40; i++) sink.send(event(i));
    await sink.close();
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['events.jsonl', 'events.jsonl.1', 'events.jsonl.2']);
    const newest = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as ProblemEvent).eventId);
    expect(newest.at(-1)).toBe('id-39');
    for (const f of files) expect(readFileSync(join(dir, f), 'utf8').length).toBeLessThanOrEqual(2_000);
  });
});
