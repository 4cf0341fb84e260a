import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { FileSink, HttpSink } from '../../src/report/event-sinks.js';
import type { ProblemEvent } from '../../src/report/problem-event.js';
import { AgentProcess, tempConfig } from '../helpers/agent-process.js';
import type { LogLine } from '../helpers/agent-process.js';
import { openListener, refusedListener } from '../helpers/tcp-servers.js';
import type { Listener } from '../helpers/tcp-servers.js';

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
async function collector(
  failures: number,
): Promise<{ url: string; received: string[]; batches: number[]; requests: () => number }> {
  const received: string[] = [];
  const batches: number[] = [];
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
      const batch = JSON.parse(Buffer.concat(chunks).toString()) as ProblemEvent[];
      batches.push(batch.length);
      for (const e of batch) received.push(e.eventId);
      res.writeHead(204).end();
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/events`,
    received,
    batches,
    requests: () => requests,
  };
}

/**
 * A collector that reads every request and never answers. Counts the requests, and the connections
 * that carried one and are still open.
 */
async function hangingCollector(): Promise<{ url: string; requests: () => number; holding: () => number }> {
  let requests = 0;
  let holding = 0;
  const server = createServer((req) => {
    requests++;
    holding++;
    req.socket.once('close', () => holding--);
    req.resume();
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/events`,
    requests: () => requests,
    holding: () => holding,
  };
}

/** Polls `condition` every 10 ms; fails after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A logger whose JSON lines land in `lines`. */
function capture(lines: LogLine[]): ReturnType<typeof createLogger> {
  return createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
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

  // Issue 12, defect 11: close waited for a POST in flight until the POST's own timeout (10 s), so a
  // hanging collector held the shutdown far past the deadline.
  it('close aborts a POST hanging in flight at its deadline and counts the batch as dropped', async () => {
    const hang = await hangingCollector();
    const http = new HttpSink({ ...options(hang.url), requestTimeoutMs: 10_000 }, systemClock, log);
    for (let i = 0; i < 3; i++) http.send(event(i));
    await until(() => hang.requests() === 1, 5_000, 'the POST to reach the collector');
    const t0 = performance.now();
    await http.close(300);
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1_000);
    expect(http.dropped()).toBe(3);
    expect(http.queued()).toBe(0);
    // The aborted request's connection is closed: nothing is left waiting on the collector.
    await until(() => hang.holding() === 0, 2_000, 'the aborted connection to close');
    expect(hang.requests()).toBe(1);
  });

  // Issue 12, defect 11 also reports batches of 105-106 with batch_size 100 while a backlog drained.
  // Not reproduced (a batch is a slice of at most batchSize); this pins the bound through an outage
  // and recovery with events arriving all along.
  it('never posts more than batch_size events while draining a backlog', async () => {
    const sink = await collector(5);
    const http = new HttpSink({ ...options(sink.url), batchSize: 100, maxQueue: 10_000 }, systemClock, log);
    for (let i = 0; i < 1_000; i += 20) {
      for (let j = i; j < i + 20; j++) http.send(event(j));
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => sink.received.length === 1_000, 10_000, 'every event to arrive');
    await http.close(1_000);
    expect(Math.max(...sink.batches)).toBe(100);
    expect(sink.received).toEqual(Array.from({ length: 1_000 }, (_, i) => `id-${i}`));
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

const root = process.getuid?.() === 0;

/** A tmpfs of `sizeKb` KiB mounted on a fresh directory: a disk that really fills up. */
function mountTmpfs(sizeKb: number): { dir: string; unmount: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', dir]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    unmount: () => {
      try {
        execFileSync('umount', [dir]);
      } catch {
        execFileSync('umount', ['-l', dir]);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The event ids in a JSONL file; a line cut short fails to parse. */
function filedIds(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as ProblemEvent).eventId);
}

// Issue 12, defect 6: events lost to a full disk were not counted (dropped() was always 0), each
// was logged with a stack, and a line cut short by the full disk broke the file.
describe('file event sink on a full disk', () => {
  it.skipIf(!root)(
    'counts every event a 64 KiB tmpfs refused, logs the burst once without a stack, writes again when space returns',
    async () => {
      const disk = mountTmpfs(64);
      try {
        const path = join(disk.dir, 'events.jsonl');
        const filler = join(disk.dir, 'filler');
        writeFileSync(filler, Buffer.alloc(8 * 1024));
        const logs: LogLine[] = [];
        const sink = new FileSink(path, 10_485_760, 5, capture(logs));
        for (let i = 0; i < 300; i++) sink.send(event(i));
        await sink.close();
        const filed = filedIds(path);
        expect(sink.dropped()).toBeGreaterThan(0);
        expect(filed.length + sink.dropped()).toBe(300);
        expect(new Set(filed).size).toBe(filed.length);
        const errors = logs.filter((l) => l.level === 'error');
        expect(errors).toHaveLength(1);
        expect(errors[0]).toMatchObject({ sink: `file:${path}`, code: 'ENOSPC' });
        expect(JSON.stringify(logs)).not.toContain('stack');

        // Space comes back: the sink goes on writing, and says once how many the burst lost.
        rmSync(filler);
        for (let i = 300; i < 305; i++) sink.send(event(i));
        await sink.close();
        expect(filedIds(path)).toEqual([...filed, 'id-300', 'id-301', 'id-302', 'id-303', 'id-304']);
        expect(sink.dropped()).toBe(300 - filed.length);
        expect(logs.filter((l) => l.level === 'error')).toHaveLength(1);
        expect(logs.filter((l) => l.level === 'warn')).toEqual([
          expect.objectContaining({ msg: 'writing problem events to the file again', dropped: sink.dropped() }),
        ]);
      } finally {
        disk.unmount();
      }
    },
  );

  it('counts every event /dev/full refused (ENOSPC without root), logged once', async () => {
    const logs: LogLine[] = [];
    const sink = new FileSink('/dev/full', 10_485_760, 1, capture(logs));
    for (let i = 0; i < 50; i++) sink.send(event(i));
    await sink.close();
    expect(sink.dropped()).toBe(50);
    expect(sink.queued()).toBe(0);
    expect(logs).toEqual([expect.objectContaining({ level: 'error', code: 'ENOSPC', sink: 'file:/dev/full' })]);
    expect(JSON.stringify(logs)).not.toContain('stack');
  });
});

// The same defects seen from outside, as the issue found them: the real agent, a real full disk,
// a real hanging collector. These spawn the built CLI (npm run build first).
describe('vantage run: event sinks under faults', () => {
  let refused: Listener;
  let open: Listener;
  const agents: AgentProcess[] = [];
  beforeAll(async () => {
    [refused, open] = await Promise.all([refusedListener(), openListener()]);
  });
  afterEach(() => {
    for (const a of agents.splice(0)) a.kill();
  });
  afterAll(async () => {
    await Promise.all([refused?.close(), open?.close()]);
  });

  const failing = (n: number): string =>
    Array.from(
      { length: n },
      (_, i) =>
        `  - {name: down${i}, host: 127.0.0.1, checks: [{kind: tcp, port: ${refused.port}, interval: 200ms, ` +
        `timeout: 100ms}]}\n`,
    ).join('');

  /** Log lines of the events the sinks also get: problems and network-quality changes. */
  const toSinks = (l: LogLine): boolean => l.event === 'problem' || l.event === 'quality_change';

  it.skipIf(!root)(
    'on a 64 KiB tmpfs, vantage_event_sink_dropped_total equals the events missing from the file',
    async () => {
      const disk = mountTmpfs(64);
      const path = join(disk.dir, 'events.jsonl');
      const sinks = `events:\n  sinks:\n    - {type: file, path: ${path}}\n`;
      const cfg = tempConfig(`${sinks}targets:\n${failing(20)}`);
      try {
        const agent = AgentProcess.start(['run', '-c', cfg.file, '--listen', '127.0.0.1:0']);
        agents.push(agent);
        const dropped = (body: string): number =>
          Number(/^vantage_event_sink_dropped_total\{sink="file:[^"]+"[^}]*\} (\d+)$/m.exec(body)?.[1] ?? 0);
        await agent.waitForMetrics((body) => dropped(body) >= 30, 15_000);
        // No more events: the failing checks leave the config (the sinks stay as they are).
        cfg.write(`${sinks}targets: [{name: up, host: 127.0.0.1, checks: [{kind: tcp, port: ${open.port}}]}]\n`);
        await agent.waitForLog((l) => l.msg === 'config reloaded');
        // Problem events and the quality model's class changes (issue 15) both go to the sinks.
        const problems = (): number => agent.logs.filter(toSinks).length;
        let body = '';
        const deadline = Date.now() + 5_000;
        for (;;) {
          body = await agent.scrape();
          const queued = /^vantage_event_sink_queued\{sink="file:[^"]+"[^}]*\} (\d+)$/m.exec(body)?.[1];
          if (queued === '0' && filedIds(path).length + dropped(body) === problems()) break;
          if (Date.now() > deadline) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        const filed = filedIds(path);
        expect(dropped(body)).toBeGreaterThan(0);
        expect(filed.length + dropped(body)).toBe(problems());
        const logged = agent.logs.filter(toSinks).map((l) => l.eventId);
        expect(logged).toEqual(expect.arrayContaining(filed));
        const sinkErrors = agent.logs.filter((l) => l.level === 'error');
        expect(sinkErrors).toEqual([expect.objectContaining({ sink: `file:${path}`, code: 'ENOSPC' })]);
        agent.child.kill('SIGTERM');
        expect(await agent.waitForExit(5_000)).toBe(0);
      } finally {
        for (const a of agents.splice(0)) a.kill();
        cfg.remove();
        disk.unmount();
      }
    },
    40_000,
  );

  it('a hanging collector cannot hold SIGTERM past the deadline; its batch is counted as dropped', async () => {
    const hang = await hangingCollector();
    const sinks = `events:\n  sinks:\n    - {type: http, url: "${hang.url}", flush_interval: 100ms}\n`;
    const cfg = tempConfig(`${sinks}targets:\n${failing(2)}`);
    try {
      const agent = AgentProcess.start(['run', '-c', cfg.file, '--listen', '127.0.0.1:0', '--shutdown-timeout', '1s']);
      agents.push(agent);
      await until(() => hang.requests() === 1, 10_000, 'a POST in flight');
      const t0 = performance.now();
      agent.child.kill('SIGTERM');
      expect(await agent.waitForExit(15_000)).toBe(0);
      // Runs in flight get up to 1 s, the sink up to 1 s more: never the POST's own 10 s timeout.
      expect(performance.now() - t0).toBeLessThan(3_000);
      const closed = agent.logs.find(
        (l) => l.msg === 'event sink closed with undelivered events; they are counted as dropped',
      );
      expect(closed?.dropped).toBe(agent.logs.filter(toSinks).length);
      expect(hang.requests()).toBe(1);
    } finally {
      cfg.remove();
    }
  }, 30_000);
});
