// @ts-check
// /metrics exposition, ours against prom-client's own render of the same series (issue 13).
// Each (scale, engine) runs in a fresh child process of this file (clean heap figures): icmp checks
// (1 IP each, count 1, like the fleet) recorded through the real ProbeRecorder into either
// our SeriesStore (MetricRegistries.scrape, written as the server writes it: streamScrape) or, through a small
// adapter below, prom-client metrics in a registry (registry.metrics(): prom-client's render, as the
// agent did before). Then scrapes, each piped to a byte-counting sink, plain and through gzip (the
// server's level): event-loop busy time per scrape, the longest stretch the loop was held (1 ms
// ticks), wall time, CPU of all threads (gzip runs on the libuv pool), bytes. No HTTP socket: the
// sink takes every chunk at once, so the numbers are the exposition's own.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createGzip, gzip as gzipCallback } from 'node:zlib';
import { promisify } from 'node:util';
import { loadDist } from './lib/dist.mjs';
import { helperJson } from './lib/helpers.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { rounded, summarize } from './lib/stats.mjs';
import { fmt } from './lib/table.mjs';

/** @import { Cell } from './lib/table.mjs' */

/** Series wanted at each scale (icmp: about 50 per target-IP, so 200, 2,000 and 10,000 targets). */
const SCALES = [10_000, 100_000, 500_000];
const ENGINES = /** @type {const} */ (['ours', 'prom-client']);
/**
 * Timed scrapes per encoding at each scale, after untimed warm-up scrapes (the JIT: an agent scrapes
 * every 15 s for weeks, so steady state is what counts; prom-client's are few, each takes seconds).
 */
const SCRAPES = {
  ours: { warmup: 3, 10_000: 10, 100_000: 8, 500_000: 4 },
  'prom-client': { warmup: 1, 10_000: 5, 100_000: 3, 500_000: 2 },
};
/** What the agent's server uses (src/web/server.ts). */
const GZIP_LEVEL = 1;
const IDENTITY = { agent: 'bench-agent-01', region: 'eu-west-1', carrier: 'bench-carrier', network_type: 'datacenter' };
const MB = 1024 * 1024;

/** @typedef {typeof ENGINES[number]} Engine */
/**
 * Per-scrape measurements of one encoding.
 * @typedef {{
 *   loopMs: number[], threadMs: number[], blockMs: number[], wallMs: number[], cpuMs: number[], bytes: number,
 * }} Scrapes
 */
/**
 * What a child prints.
 * @typedef {{
 *   engine: Engine, targets: number, series: number, probeLinesHash: string,
 *   plain: Scrapes, gzip: Scrapes, gzip6Bytes: number | null,
 *   heapMB: number, buffersMB: number, rssMB: number, recordUs: number,
 * }} ChildResult
 */

// ---- the series: icmp results, deterministic ----

/** @param {number} i */
function spec(i) {
  return {
    name: `ping-${i}`,
    kind: 'icmp',
    target: { name: `target-${i}`, host: `host-${i}.bench.invalid`, group: '', labels: {} },
    schedule: { type: 'interval', intervalMs: 10_000 },
    timeoutMs: 5_000,
    settings: {},
  };
}

/**
 * One icmp run of target i: one echo, answered (every 20th lost).
 * @param {number} i
 * @param {string} startedAt
 */
function results(i, startedAt) {
  const ip = `127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const lost = i % 20 === 0;
  const rtt = 0.05 + ((i * 37) % 1000) / 100;
  return [
    {
      check: `ping-${i}`,
      kind: 'icmp',
      target: `target-${i}`,
      ip,
      ok: !lost,
      error: lost ? { code: 'ICMP_TIMEOUT', message: 'no reply', phase: 'ping' } : null,
      startedAt,
      durationMs: lost ? 1000 : rtt + 0.02,
      phasesMs: { resolve: 0.01, ping: lost ? 1000 : rtt },
      sent: 1,
      received: lost ? 0 : 1,
      loss: lost ? 1 : 0,
      duplicates: 0,
      rttMs: lost ? null : { min: rtt, avg: rtt, median: rtt, max: rtt, stddev: 0 },
      rttsMs: lost ? [] : [rtt],
      replyTtl: lost ? null : 64,
      icmpError: null,
    },
  ];
}

// ---- prom-client behind the recorder's store interface (what ProbeRecorder wrote before) ----

/**
 * The SeriesStore interface ProbeRecorder writes to, kept in prom-client metrics: each series a
 * prom-client label set, removed with its exact labels when an update's `keep` refuses it.
 * @param {any} promClient the prom-client module
 * @param {any} registry a prom-client Registry
 */
function promClientStore(promClient, registry) {
  /** @typedef {{ def: any, metric: any }} Fam */
  /** @typedef {{ fam: Fam, labels: Record<string, string>, run: number, lastMs: number }} Entry */
  /** @type {Map<string, Map<string, Entry>>} */
  const owners = new Map();
  return {
    /** @param {any} def */
    family(def) {
      const base = { name: def.name, help: def.help, labelNames: [...def.labels], registers: [registry] };
      const Type = { gauge: promClient.Gauge, counter: promClient.Counter, histogram: promClient.Histogram }[
        /** @type {'gauge' | 'counter' | 'histogram'} */ (def.type)
      ];
      return { def, metric: new Type(def.buckets ? { ...base, buckets: [...def.buckets] } : base) };
    },
    /** @param {string} key */
    owner(key) {
      let series = owners.get(key);
      if (!series) owners.set(key, (series = new Map()));
      const entries = series;
      let run = 0;
      let nowMs = 0;
      /** @param {Fam} fam @param {string[]} values */
      const touch = (fam, values) => {
        const labels = Object.fromEntries(
          fam.def.labels.map((/** @type {string} */ n, /** @type {number} */ i) => [n, values[i]]),
        );
        entries.set(`${fam.def.name}\0${values.join('\0')}`, { fam, labels, run, lastMs: nowMs });
        return labels;
      };
      const w = {
        /** @param {number} now */
        begin(now) {
          run++;
          nowMs = now;
          return w;
        },
        /** @param {Fam} f @param {string[]} v @param {number} x */
        set: (f, v, x) => (f.metric.set(touch(f, v), x), w),
        /** @param {Fam} f @param {string[]} v */
        inc: (f, v, x = 1) => (Number.isFinite(x) && x >= 0 && f.metric.inc(touch(f, v), x), w),
        /** @param {Fam} f @param {string[]} v @param {number} x */
        observe: (f, v, x) => (Number.isFinite(x) && f.metric.observe(touch(f, v), x), w),
        /** @param {Fam} f @param {string[]} v @param {number} x */
        sample: (f, v, x) =>
          f.def.type === 'gauge' ? w.set(f, v, x) : f.def.type === 'counter' ? w.inc(f, v, x) : w.observe(f, v, x),
        /** @param {(type: string, seen: boolean, lastMs: number) => boolean} keep */
        end(keep = () => true) {
          for (const [key, e] of entries)
            if (!keep(e.fam.def.type, e.run === run, e.lastMs)) {
              e.fam.metric.remove(e.labels);
              entries.delete(key);
            }
        },
      };
      return w;
    },
    /** @param {string} key */
    forget(key) {
      for (const e of owners.get(key)?.values() ?? []) e.fam.metric.remove(e.labels);
      owners.delete(key);
    },
  };
}

// ---- one child: fill, then measure ----

/** Longest gap between 1 ms ticks while it runs, minus the 1 ms: how long the loop was held at a stretch. */
function blockProbe() {
  let last = performance.now();
  let max = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last);
    last = now;
  }, 1);
  return () => {
    clearInterval(timer);
    return Math.max(0, Math.max(max, performance.now() - last) - 1);
  };
}

/**
 * CPU time of the main thread (the event loop's), ms: Linux's schedstat, so time the thread waited
 * for a core (other processes share the machine) is not counted, as eventLoopUtilization counts it.
 * NaN where /proc has no such file.
 */
function mainThreadCpuMs() {
  try {
    return Number(readFileSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return NaN;
  }
}

/**
 * A sink that counts bytes and, when asked, keeps them.
 * @param {Buffer[] | undefined} keep
 */
function sink(keep) {
  const counted = { bytes: 0 };
  const stream = new Writable({
    write(chunk, _enc, done) {
      counted.bytes += chunk.length;
      keep?.push(Buffer.from(chunk)); // a copy: ours writes the next chunks into the same memory
      done();
    },
  });
  return { stream, counted };
}

/**
 * @param {Engine} engine
 * @param {number} wanted series
 */
async function child(engine, wanted) {
  setFlagsFromString('--expose-gc');
  /** @type {() => void} */
  const gc = runInNewContext('gc');
  const promClient = await import('prom-client');
  const { MetricRegistries } = await loadDist('metrics/registries.js');
  const { ProbeRecorder } = await loadDist('metrics/probe-recorder.js');
  const { streamScrape } = await loadDist('web/server.js');
  const { icmpKind } = await loadDist('checks/icmp/index.js');

  const registries = new MetricRegistries({ processMetrics: engine === 'ours' });
  const promRegistry = new promClient.Registry();
  if (engine === 'prom-client') promClient.collectDefaultMetrics({ register: promRegistry });
  registries.setDefaultLabels(IDENTITY);
  promRegistry.setDefaultLabels(IDENTITY);
  const target = engine === 'ours' ? registries : { series: promClientStore(promClient, promRegistry) };
  const recorder = new ProbeRecorder(target, [icmpKind]);

  /**
   * One scrape written to `dest`: ours as the agent's server writes it (streamScrape: chunks reused
   * once written, gzip off the loop), prom-client's body rendered whole and then written the same way.
   * @param {Writable} dest
   * @param {boolean} zipped
   */
  const scrapeTo = async (dest, zipped) => {
    if (engine === 'ours') return streamScrape(await registries.scrape(false), dest, zipped);
    const body = Readable.from([Buffer.from(await promRegistry.metrics())], { objectMode: false });
    if (zipped) return pipeline(body, createGzip({ level: GZIP_LEVEL, chunkSize: 64 * 1024 }), dest);
    return pipeline(body, dest);
  };

  const perTarget = 50;
  const targets = Math.max(1, Math.round(wanted / perTarget));
  // Three runs of every check, 10 s apart; the third is timed (warm code, series already there: the
  // steady state of an agent, where every run rewrites its check's series).
  for (let i = 0; i < targets; i++) recorder.record(spec(i), results(i, '2026-01-01T00:00:00.000Z'));
  for (let i = 0; i < targets; i++) recorder.record(spec(i), results(i, '2026-01-01T00:00:10.000Z'));
  const t0 = performance.now();
  for (let i = 0; i < targets; i++) recorder.record(spec(i), results(i, '2026-01-01T00:00:20.000Z'));
  const recordUs = ((performance.now() - t0) * 1000) / targets;
  gc();
  const mem = process.memoryUsage();

  // The series count and a hash of the probe lines (both engines must agree), from one more scrape
  // after the timed ones (its copy of the body and its lines would weigh on their GCs and RSS).
  const checkScrape = async () => {
    /** @type {Buffer[]} */
    const kept = [];
    await scrapeTo(sink(kept).stream, false);
    const text = Buffer.concat(kept).toString('utf8');
    const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    const probeLines = lines.filter((l) => !l.startsWith('process_') && !l.startsWith('nodejs_')).sort();
    return {
      series: lines.length,
      probeLinesHash: createHash('sha256').update(probeLines.join('\n')).digest('hex').slice(0, 16),
      gzip6Bytes: engine === 'ours' ? (await promisify(gzipCallback)(text, { level: 6 })).length : null,
    };
  };
  for (let k = 0; k < SCRAPES[engine].warmup; k++) await scrapeTo(sink(undefined).stream, k % 2 === 1);

  const scrapes = SCRAPES[engine][/** @type {10_000 | 100_000 | 500_000} */ (wanted)] ?? 3;
  /** @param {boolean} zipped @returns {Promise<Scrapes>} */
  const measure = async (zipped) => {
    /** @type {Scrapes} */
    const r = { loopMs: [], threadMs: [], blockMs: [], wallMs: [], cpuMs: [], bytes: 0 };
    // No gc() between scrapes: a forced collection leaves V8 a tight heap limit, and its next
    // collection would fall inside the scrape; the agent never forces one.
    for (let k = 0; k < scrapes; k++) {
      const out = sink(undefined);
      const stopProbe = blockProbe();
      const elu0 = performance.eventLoopUtilization();
      const cpu0 = process.cpuUsage();
      const thread0 = mainThreadCpuMs();
      const w0 = performance.now();
      await scrapeTo(out.stream, zipped);
      r.wallMs.push(performance.now() - w0);
      const cpu = process.cpuUsage(cpu0);
      r.loopMs.push(performance.eventLoopUtilization(elu0).active);
      r.cpuMs.push((cpu.user + cpu.system) / 1000);
      r.threadMs.push(mainThreadCpuMs() - thread0);
      r.blockMs.push(stopProbe());
      r.bytes = out.counted.bytes;
    }
    return r;
  };
  const plain = await measure(false);
  const zipped = await measure(true);
  const rssMB = process.memoryUsage().rss / MB;
  const { series, probeLinesHash, gzip6Bytes } = await checkScrape();
  /** @type {ChildResult} */
  const result = {
    engine,
    targets,
    series,
    probeLinesHash,
    plain,
    gzip: zipped,
    gzip6Bytes,
    heapMB: mem.heapUsed / MB,
    buffersMB: mem.arrayBuffers / MB,
    rssMB,
    recordUs,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// ---- the parent: every scale and engine, side by side ----

/** @param {Scrapes} s */
const rawScrapes = (s) => ({
  bytes: s.bytes,
  loopMs: rounded(summarize(s.loopMs)),
  threadMs: rounded(summarize(s.threadMs)),
  blockMs: rounded(summarize(s.blockMs)),
  cpuMs: rounded(summarize(s.cpuMs)),
});

export async function run() {
  const loadBefore = loadavg()[0] ?? NaN;
  /** @type {ChildResult[]} */
  const results = [];
  for (const wanted of SCALES) {
    for (const engine of ENGINES) {
      const r = /** @type {ChildResult} */ (
        await helperJson('metrics-exposition.mjs', ['--child', engine, String(wanted)], { timeoutMs: 120_000 })
      );
      results.push(r);
    }
  }
  const rows = results.flatMap((r) =>
    /** @type {const} */ ([
      ['plain', r.plain],
      ['gzip', r.gzip],
    ]).map(([encoding, s]) => {
      const loop = summarize(s.loopMs);
      const block = summarize(s.blockMs);
      return [
        fmt(r.series, 0),
        r.engine,
        encoding,
        fmt(loop.p50, 1),
        fmt(loop.max, 1),
        fmt(summarize(s.threadMs).p50, 1),
        fmt(block.p50, 1),
        fmt(block.max, 1),
        fmt(summarize(s.wallMs).p50, 0),
        fmt(summarize(s.cpuMs).p50, 0),
        fmt(s.bytes / MB, 2),
        fmt(r.heapMB, 0),
        fmt(r.buffersMB, 0),
        fmt(r.rssMB, 0),
        fmt(r.recordUs, 1),
      ];
    }),
  );
  const agree = SCALES.map((_wanted, i) => {
    const [ours, theirs] = [results[2 * i], results[2 * i + 1]];
    const same = ours?.probeLinesHash === theirs?.probeLinesHash ? 'identical' : 'DIFFER';
    return `${fmt(ours?.series, 0)} series: probe lines of both ${same} (sha256 ${ours?.probeLinesHash})`;
  });
  const perScale = ENGINES.map((e) => {
    const n = SCALES.map((s) => SCRAPES[e][/** @type {10_000 | 100_000 | 500_000} */ (s)]).join('/');
    return `${e} ${n} (after ${SCRAPES[e].warmup} warm-up)`;
  }).join(', ');
  const gzipNotes = results
    .filter((r) => r.engine === 'ours')
    .map(
      (r) =>
        `${fmt(r.series, 0)} series: ${fmt(r.plain.bytes / MB, 2)} MB plain, gzip level ${GZIP_LEVEL} ` +
        `${fmt(r.gzip.bytes / MB, 2)} MB (${fmt(r.plain.bytes / r.gzip.bytes, 1)}x), level 6 ` +
        `${fmt((r.gzip6Bytes ?? NaN) / MB, 2)} MB`,
    );
  return {
    title: 'metrics-exposition: one /metrics scrape, ours (SeriesStore, streamed in slices) vs prom-client render',
    sections: [
      {
        headers: [
          'series',
          'exposition',
          'encoding',
          'loop ms p50',
          'loop ms max',
          'loop CPU ms p50',
          'block ms p50',
          'block ms max',
          'wall ms p50',
          'CPU ms p50',
          'body MB',
          'heap MB',
          'buffers MB',
          'RSS MB',
          'record us/run',
        ],
        rows,
        notes: [
          'icmp checks, 1 IP each, three runs recorded per check, 4 identity labels, process metrics on; ' +
            'text format (OpenMetrics differs in headers only)',
          'loop ms: event-loop busy time during one scrape (eventLoopUtilization, wall clock); loop CPU: the ' +
            "main thread's CPU time in it (/proc schedstat: without the time it waited for a core)",
          'block: the longest gap ' +
            'between 1 ms ticks during a scrape, minus 1 ms (p50 and max over the scrapes; GC pauses included)',
          'CPU: all threads (gzip runs on the libuv pool); wall-clock figures include time the process waited ' +
            `for a core: load average ${fmt(loadBefore, 2)} before the run, ${fmt(loadavg()[0], 2)} after, ` +
            `${cpus().length} cores`,
          "heap/buffers: after recording and a GC (ours keeps each check's rendered lines as buffers); " +
            'RSS: after the scrapes; record: ProbeRecorder.record per check run, the third run of each check ' +
            '(ours renders the lines then)',
          `timed scrapes per encoding: ${perScale}; ` + 'body piped to a byte-counting sink (no socket)',
          ...agree,
        ],
      },
      { heading: 'bytes per scrape:', notes: gzipNotes },
    ],
    raw: {
      gzipLevel: GZIP_LEVEL,
      scales: results.map((r) => ({
        engine: r.engine,
        series: r.series,
        targets: r.targets,
        plain: rawScrapes(r.plain),
        gzip: rawScrapes(r.gzip),
        gzip6Bytes: r.gzip6Bytes,
        heapMB: r.heapMB,
        buffersMB: r.buffersMB,
        rssMB: r.rssMB,
        recordUs: r.recordUs,
      })),
    },
  };
}

/**
 * Summary lines (bench/run.mjs): loop time and longest block per scrape at 100k series, and gzip
 * bytes, next to prom-client's.
 * @param {Awaited<ReturnType<typeof run>>['raw']} m
 * @returns {Cell[][]}
 */
export function headline(m) {
  const at = (/** @type {string} */ engine) =>
    m.scales.filter((s) => s.engine === engine && s.series >= 90_000 && s.series < 200_000)[0];
  const ours = at('ours');
  const theirs = at('prom-client');
  if (!ours || !theirs) return [];
  const n = fmt(ours.series, 0);
  return [
    [
      `/metrics loop ms per scrape, ${n} series (gzip)`,
      fmt(ours.gzip.loopMs.p50, 1),
      fmt(theirs.gzip.loopMs.p50, 1),
      'prom-client render',
    ],
    [
      `/metrics longest loop block ms, ${n} series`,
      fmt(ours.gzip.blockMs.max, 1),
      fmt(theirs.gzip.blockMs.max, 1),
      'prom-client render',
    ],
    [
      `/metrics MB per scrape, ${n} series, gzip vs plain`,
      fmt(ours.gzip.bytes / MB, 2),
      fmt(ours.plain.bytes / MB, 2),
      'uncompressed',
    ],
  ];
}

const self = fileURLToPath(import.meta.url);
if (
  process.argv[1] &&
  pathToFileURL(process.argv[1]).href === pathToFileURL(self).href &&
  process.argv[2] === '--child'
) {
  const engine = process.argv[3] === 'prom-client' ? 'prom-client' : 'ours';
  await child(engine, Number(process.argv[4]));
} else {
  await runStandalone(import.meta.url, run);
}
