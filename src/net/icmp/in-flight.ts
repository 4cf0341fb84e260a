import { IdTables } from './id-tables.js';

/** Slots per identifier: one per sequence number. */
const SEQUENCES = 0x10000;

/**
 * Probes in flight by key (identifier << 16 | sequence, see probe-keys.ts): an array of 65,536
 * slots per identifier (512 KB; a few identifiers at most, see ProbeKeys), so a send and the reply
 * that answers it find their probe with array reads. A Map keyed by the key hashed it on every
 * lookup, four or five lookups a probe. Tables are kept once made: an identifier comes back into
 * use once its keys are forgotten (see ProbeKeys).
 */
export class InFlight<T extends object> {
  private readonly tables = new IdTables<Array<T | undefined>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: number): T | undefined {
    return this.tables.get(key >>> 16)?.[key & 0xffff];
  }

  has(key: number): boolean {
    return this.get(key) !== undefined;
  }

  /** Holds `value` under `key` (a key is never set while it holds another probe: see ProbeKeys). */
  set(key: number, value: T): void {
    const table = this.tables.getOrCreate(key >>> 16, emptyTable);
    if (table[key & 0xffff] === undefined) this.count++;
    table[key & 0xffff] = value;
  }

  /** Drops `value` if `key` still holds it; false when it does not. */
  delete(key: number, value: T): boolean {
    const table = this.tables.get(key >>> 16);
    if (table?.[key & 0xffff] !== value) return false;
    table[key & 0xffff] = undefined;
    this.count--;
    return true;
  }

  /** Every probe in flight (a copy: settling them while iterating is safe). */
  values(): T[] {
    const all: T[] = [];
    for (const table of this.tables.values()) for (const value of table) if (value !== undefined) all.push(value);
    return all;
  }
}

/** A table with no probe in it (packed: reads of a holey array are slower). */
function emptyTable<T>(): Array<T | undefined> {
  return new Array<T | undefined>(SEQUENCES).fill(undefined);
}
