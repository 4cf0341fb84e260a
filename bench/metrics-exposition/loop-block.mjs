// @ts-check
// What one scrape costs the event loop: busy time, the main thread's CPU, the longest stretch the
// loop was held (1 ms ticks), wall time, CPU of all threads (gzip runs on the libuv pool), bytes.
// No HTTP socket: the sink takes every chunk at once, so the numbers are the exposition's own.
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';

/** @import { Scrapes } from './settings.mjs' */

/** Longest gap between 1 ms ticks while it runs, minus the 1 ms: how long the loop was held at a stretch. */
export function blockProbe() {
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
export function mainThreadCpuMs() {
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
export function sink(keep) {
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
 * `count` scrapes of one encoding, each measured on its own.
 * @param {(dest: Writable, zipped: boolean) => Promise<unknown>} scrapeTo
 * @param {boolean} zipped
 * @param {number} count
 * @param {() => void} [between] untimed work before each scrape (new runs recorded)
 * @returns {Promise<Scrapes>}
 */
export async function measureScrapes(scrapeTo, zipped, count, between) {
  /** @type {Scrapes} */
  const r = { loopMs: [], threadMs: [], blockMs: [], wallMs: [], cpuMs: [], bytes: 0 };
  // No gc() between scrapes: a forced collection leaves V8 a tight heap limit, and its next
  // collection would fall inside the scrape; the agent never forces one.
  for (let k = 0; k < count; k++) {
    between?.();
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
}
