// @ts-check
// When each icmp run really went out, seen from outside the agent: every raw ICMP socket of the
// host gets a copy of every echo reply (FIELD-NOTES), with the kernel's receive stamp, and a
// loopback reply follows its request by some 20 µs. So a raw socket of our own (the repo's addon)
// sees each icmp check's send time to within that, and the check's planned slot is known (the
// agent's phase offset for AGENT_ID and the check's name, every INTERVAL_MS): lag on the wire =
// reply stamp - planned slot. This catches what the agent's own histogram cannot: the time between
// the scheduler starting a run and the probe leaving (queueing, a loop held by a scrape).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { loadDist, ROOT } from '../lib/dist.mjs';

const { BatchBlock } = await loadDist('net/icmp/batch-block.js');

/**
 * The addon's surface used here (see src/net/icmp/native.ts).
 * @typedef {{
 *   batchLayout: object,
 *   openBatch(family: 4, identifier: number, memory: ArrayBuffer, onBatch: (count: number) => void,
 *     onError: (errno: number, message: string) => void): object,
 *   close(handle: object): void,
 * }} Addon
 */

/**
 * Realtime minus monotonic clock (ns), to about a microsecond: spins until Date.now() ticks over a
 * millisecond and takes the monotonic clock on both sides of that tick (at most ~1 ms of CPU); of
 * five tries, the one with the narrowest bracket (a try the scheduler preempted is wide).
 */
function realtimeOffsetNs() {
  let best = { width: BigInt(Number.MAX_SAFE_INTEGER), offset: 0n };
  for (let i = 0; i < 5; i++) {
    const first = Date.now();
    let before = process.hrtime.bigint();
    let now = Date.now();
    while (now === first) {
      before = process.hrtime.bigint();
      now = Date.now();
    }
    const after = process.hrtime.bigint();
    if (after - before < best.width)
      best = { width: after - before, offset: BigInt(now) * 1_000_000n - (before + after) / 2n };
  }
  return best.offset;
}

/** A probe this much before its slot is an early one (the scheduler allows 1 ms), not a late previous one. */
const EARLY_MS = 1000;

/** Every icmp probe of the watched checks, seen on the wire. */
export class WireLag {
  /** @type {Map<string, number>} address -> phase offset (ms) */
  #offsets = new Map();
  /** @type {Array<{ plannedNs: bigint, lagMs: number }>} planned slot (monotonic ns), lag */
  samples = [];
  /** Realtime - monotonic at the start, and how far it moved since (ns). */
  #offset0 = realtimeOffsetNs();
  #offsetNow = this.#offset0;
  maxDriftNs = 0n;
  #intervalMs;
  /** @type {Addon | undefined} */
  #addon;
  /** @type {object | undefined} */
  #handle;
  #calibrate;

  /** @param {number} intervalMs */
  constructor(intervalMs) {
    this.#intervalMs = intervalMs;
    const require = createRequire(import.meta.url);
    this.#addon = /** @type {Addon} */ (require(join(ROOT, 'build', 'Release', 'vantage_icmp.node')));
    const block = new BatchBlock(this.#addon.batchLayout);
    // Identifier -1: a raw socket, which gets a copy of every echo reply of the host.
    this.#handle = this.#addon.openBatch(
      4,
      -1,
      block.memory,
      (count) => this.#onBatch(block, count),
      () => undefined,
    );
    this.#calibrate = setInterval(() => {
      this.#offsetNow = realtimeOffsetNs();
      const drift = this.#offsetNow - this.#offset0;
      if ((drift < 0n ? -drift : drift) > this.maxDriftNs) this.maxDriftNs = drift < 0n ? -drift : drift;
    }, 5000);
    this.#calibrate.unref();
  }

  /**
   * The icmp checks to watch (replaces the previous set) and forgets earlier samples.
   * @param {ReadonlyArray<{ address: string, offsetMs: number }>} checks
   */
  watch(checks) {
    this.#offsets = new Map(checks.map((c) => [c.address, c.offsetMs]));
    this.samples = [];
  }

  /**
   * @param {any} block the BatchBlock the addon read `count` datagrams into
   * @param {number} count
   */
  #onBatch(block, count) {
    for (let i = 0; i < count; i++) {
      const offsetMs = this.#offsets.get(block.address(i));
      if (offsetMs === undefined) continue;
      const data = block.data(i);
      const ihl = ((data[0] ?? 0) & 0x0f) * 4;
      if (data[ihl] !== 0) continue; // echo replies only
      // The stamp on the monotonic clock, then the latest slot offset + k * interval at most EARLY_MS
      // after it (the agent plans its slots from the wall clock at its start, then on the monotonic
      // clock, as this does): lags from -EARLY_MS to interval - EARLY_MS are told apart.
      const monoNs = block.stampNs(i) - this.#offsetNow;
      const wallMs = Number(monoNs + this.#offset0) / 1e6;
      const k = Math.floor((wallMs - offsetMs + EARLY_MS) / this.#intervalMs);
      const slotWallMs = offsetMs + k * this.#intervalMs;
      const plannedNs = BigInt(Math.round(slotWallMs * 1e6)) - this.#offset0;
      this.samples.push({ plannedNs, lagMs: wallMs - slotWallMs });
    }
  }

  close() {
    clearInterval(this.#calibrate);
    if (this.#addon && this.#handle) this.#addon.close(this.#handle);
    this.#addon = undefined;
  }
}
