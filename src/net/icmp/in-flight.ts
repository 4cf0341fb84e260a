/** Slots per identifier: one per sequence number. */
const SEQUENCES = 0x10000;

/**
 * Probes in flight by key (identifier << 16 | sequence, see probe-keys.ts): an array of 65,536
 * slots per identifier (512 KB; a few identifiers at most, see ProbeKeys), so a send and the reply
 * that answers it find their probe with array reads. A Map keyed by the key hashed it on every
 * lookup (keys past 2^31 are heap numbers), four or five lookups a probe.
 */
export class InFlight<T extends object> {
  private readonly tables = new Map<number, Array<T | undefined>>();
  /** The identifier looked up last and its table: nearly every lookup is for the same one. */
  private lastId = -1;
  private lastTable: Array<T | undefined> | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: number): T | undefined {
    return this.table(key >>> 16, false)?.[key & 0xffff];
  }

  has(key: number): boolean {
    return this.get(key) !== undefined;
  }

  /** Holds `value` under `key` (a key is never set while it holds another probe: see ProbeKeys). */
  set(key: number, value: T): void {
    const table = this.table(key >>> 16, true)!;
    if (table[key & 0xffff] === undefined) this.count++;
    table[key & 0xffff] = value;
  }

  /** Drops `value` if `key` still holds it; false when it does not. */
  delete(key: number, value: T): boolean {
    const table = this.table(key >>> 16, false);
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

  private table(id: number, create: boolean): Array<T | undefined> | undefined {
    if (id === this.lastId) return this.lastTable;
    let table = this.tables.get(id);
    if (!table && create) this.tables.set(id, (table = new Array<T | undefined>(SEQUENCES).fill(undefined)));
    if (table) {
      this.lastId = id;
      this.lastTable = table;
    }
    return table;
  }
}
