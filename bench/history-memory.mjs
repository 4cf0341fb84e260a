// @ts-check
// What the status pages' history costs (issue 19): bytes per check and IP with full rings, per kind,
// for the typed-array ring (src/history/sample-ring.ts) beside the obvious alternative from the same
// run, an array of one plain object per sample. Heap plus array buffers after full GCs; the last
// result kept per check and IP is included. In process, no sockets. `node --expose-gc` steadies it.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadDist } from './lib/dist.mjs';
import { fmt } from './lib/table.mjs';
import { runStandalone } from './lib/standalone.mjs';

setFlagsFromString('--expose-gc');
const gc = /** @type {() => void} */ (runInNewContext('gc'));
const CHECKS = 1_000;
const SAMPLES = [120, 360];

/** @param {string} kind @param {number} i */
function result(kind, i) {
  const base = {
    check: `c-${kind}`,
    kind,
    target: 't',
    ip: '198.18.0.1',
    ok: i % 50 !== 0,
    error: i % 50 === 0 ? { code: 'TCP_TIMEOUT', message: 'connect timed out after 5000 ms', phase: 'connect' } : null,
    startedAt: new Date(Date.UTC(2026, 0, 1) + i * 30_000).toISOString(),
    durationMs: 20 + (i % 7),
  };
  if (kind === 'icmp')
    return {
      ...base,
      phasesMs: { resolve: 0.1, ping: 220 },
      sent: 3,
      received: 3,
      loss: 0,
      rttMs: { min: 18, avg: 20, median: 20, max: 22, stddev: 1.5 },
      rttsMs: [18, 20, 22],
    };
  if (kind === 'https')
    return {
      ...base,
      phasesMs: { dns: 1, connect: 10, tls: 20, request: 1, firstByte: 40, headers: 2, transfer: 12, total: 86 },
      status: 200,
    };
  return { ...base, phasesMs: { resolve: 0.1, connect: 10 } };
}

function heap() {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * @param {any} HistoryStore
 * @param {(kind: string) => string[]} phasesOf
 * @param {string} kind
 * @param {number} samples
 */
function measure(HistoryStore, phasesOf, kind, samples) {
  const specs = Array.from({ length: CHECKS }, (_, n) => ({ name: `c${n}`, kind, target: { name: `t${n}` } }));
  const before = heap();
  const store = new HistoryStore({ samples }, phasesOf);
  for (let i = 0; i < samples; i++) for (const spec of specs) store.record(spec, [result(kind, i)]);
  const ring = (heap() - before) / CHECKS;
  const naiveBefore = heap();
  const naive = specs.map(() => /** @type {object[]} */ ([]));
  for (let i = 0; i < samples; i++)
    for (const list of naive) {
      const r = result(kind, i);
      list.push({
        t: Date.parse(r.startedAt),
        ok: r.ok,
        ms: r.durationMs,
        lowMs: 1,
        highMs: 2,
        loss: 0,
        code: r.error?.code,
        phasesMs: Object.values(r.phasesMs),
      });
    }
  const naiveBytes = (heap() - naiveBefore) / CHECKS;
  return { kind, samples, ring, naive: naiveBytes, keep: [store, naive] };
}

export async function run() {
  const { HistoryStore } = await loadDist('history/history-store.js');
  const { builtinRegistry } = await loadDist('checks/registry.js');
  const registry = builtinRegistry();
  /** @param {string} kind */
  const phasesOf = (kind) => registry.get(kind)?.phases ?? [];
  const rows = [];
  for (const samples of SAMPLES)
    for (const kind of ['tcp', 'icmp', 'https']) {
      const r = measure(HistoryStore, phasesOf, kind, samples);
      rows.push([kind, String(samples), fmt(r.ring / 1024, 1), fmt(r.naive / 1024, 1)]);
    }
  return {
    title: `history: ${CHECKS} checks, one IP each, rings full, in process`,
    sections: [
      {
        headers: ['kind', 'history.samples', 'vantage KiB / check+IP', 'object per sample KiB / check+IP'],
        rows,
        notes: ['heap + array buffers after full GCs; noisy on a shared machine'],
      },
    ],
  };
}

await runStandalone(import.meta.url, run);
