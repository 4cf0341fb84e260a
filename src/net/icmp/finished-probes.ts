import type { DuplicateTally } from './echo.js';
import { IdTables } from './id-tables.js';

/** What is remembered of a finished probe, to recognise duplicates and late replies. */
export interface FinishedProbe {
  answered: boolean;
  address: string;
  duplicates?: DuplicateTally | undefined;
}

/** Sequence -> record number + 1 (0: not remembered) for one identifier, and how many it holds. */
interface IdTable {
  numbers: Int32Array;
  count: number;
}

function emptyIdTable(): IdTable {
  return { numbers: new Int32Array(0x10000), count: 0 };
}

const MIN_CAPACITY = 256;
/** Records are numbered modulo this (a multiple of every capacity), so numbers stay small integers. */
const NUMBER_MASK = 2 ** 30 - 1;

/**
 * Finished probes, remembered for `keepNs` after they finished, in a ring kept in finishing order.
 * Record n lives in slot `n & (capacity - 1)`; a key (identifier << 16 | sequence) finds its record
 * through one 65,536-cell table per identifier (sequence -> record number + 1), dropped once that
 * identifier has nothing remembered. So forgetting costs only the records forgotten, a lookup is
 * two array reads, growing the ring never touches the tables, and a record is some 30 bytes of
 * typed arrays and array slots (a Map of objects took about 290: 85 MB at 10,000 probes/s).
 *
 * Why not one Map in insertion order, forgetting from its front: V8 leaves a deleted Map entry as a
 * hole until the table is rebuilt, and an iterator from the front walks every hole, so each
 * forgetting walked up to the 200,000 holes in front of the oldest record. Past 30 s at 10,000
 * probes/s that took a whole core and the engine fell behind (probes queued, then timed out).
 */
export class FinishedProbes {
  private readonly byId = new IdTables<IdTable>();
  private keys = new Int32Array(MIN_CAPACITY);
  /** Monotonic ms at which each record is forgotten. */
  private forgetAtMs = new Float64Array(MIN_CAPACITY);
  private answered = new Uint8Array(MIN_CAPACITY);
  private addresses: string[] = new Array<string>(MIN_CAPACITY).fill('');
  private tallies: Array<DuplicateTally | undefined> = new Array<undefined>(MIN_CAPACITY).fill(undefined);
  /** Number of the oldest record. */
  private first = 0;
  private count = 0;
  private readonly keepMs: number;

  constructor(keepNs: bigint) {
    this.keepMs = Number(keepNs) / 1e6;
  }

  /** Records remembered now. */
  get size(): number {
    return this.count;
  }

  /** Slots allocated (the ring grows to the peak and shrinks back once records are forgotten). */
  get capacity(): number {
    return this.keys.length;
  }

  has(key: number): boolean {
    return this.slotOf(key) !== undefined;
  }

  get(key: number): FinishedProbe | undefined {
    const slot = this.slotOf(key);
    if (slot === undefined) return undefined;
    const duplicates = this.tallies[slot];
    return {
      answered: this.answered[slot] === 1,
      address: this.addresses[slot] ?? '',
      ...(duplicates ? { duplicates } : {}),
    };
  }

  /**
   * Remembers a probe that finished at `nowNs` (calls come in time order; a key is never added while
   * it is remembered) after forgetting those past their time.
   */
  add(key: number, probe: FinishedProbe, nowNs: bigint): void {
    const nowMs = Number(nowNs) / 1e6;
    this.forget(nowMs);
    if (this.count === this.keys.length) this.resize(this.keys.length * 2);
    const n = (this.first + this.count) & NUMBER_MASK;
    const slot = n & (this.keys.length - 1);
    this.keys[slot] = key | 0;
    this.forgetAtMs[slot] = nowMs + this.keepMs;
    this.answered[slot] = probe.answered ? 1 : 0;
    this.addresses[slot] = probe.address;
    this.tallies[slot] = probe.duplicates;
    const id = key >>> 16;
    const table = this.byId.getOrCreate(id, emptyIdTable);
    table.numbers[key & 0xffff] = n + 1;
    table.count++;
    this.count++;
  }

  private slotOf(key: number): number | undefined {
    const n = (this.byId.get(key >>> 16)?.numbers[key & 0xffff] ?? 0) - 1;
    return n < 0 ? undefined : n & (this.keys.length - 1);
  }

  /** Forgets the records due by `nowMs`, oldest first. */
  private forget(nowMs: number): void {
    while (this.count > 0) {
      const slot = this.first & (this.keys.length - 1);
      if (this.forgetAtMs[slot]! > nowMs) break;
      const key = this.keys[slot]! >>> 0;
      const table = this.byId.get(key >>> 16);
      if (table && table.numbers[key & 0xffff] === this.first + 1) {
        table.numbers[key & 0xffff] = 0;
        if (--table.count === 0) this.byId.delete(key >>> 16);
      }
      this.addresses[slot] = '';
      this.tallies[slot] = undefined;
      this.first = (this.first + 1) & NUMBER_MASK;
      this.count--;
    }
    let capacity = this.keys.length;
    while (capacity > MIN_CAPACITY && this.count < capacity / 4) capacity /= 2;
    if (capacity !== this.keys.length) this.resize(capacity);
  }

  /** Moves every record to its slot in a ring of `capacity` (a power of two): numbers do not change. */
  private resize(capacity: number): void {
    const keys = new Int32Array(capacity);
    const forgetAtMs = new Float64Array(capacity);
    const answered = new Uint8Array(capacity);
    const addresses = new Array<string>(capacity).fill('');
    const tallies = new Array<DuplicateTally | undefined>(capacity).fill(undefined);
    const oldMask = this.keys.length - 1;
    for (let i = 0; i < this.count; i++) {
      const n = (this.first + i) & NUMBER_MASK;
      const from = n & oldMask;
      const to = n & (capacity - 1);
      keys[to] = this.keys[from]!;
      forgetAtMs[to] = this.forgetAtMs[from]!;
      answered[to] = this.answered[from]!;
      addresses[to] = this.addresses[from] ?? '';
      tallies[to] = this.tallies[from];
    }
    this.keys = keys;
    this.forgetAtMs = forgetAtMs;
    this.answered = answered;
    this.addresses = addresses;
    this.tallies = tallies;
  }
}
