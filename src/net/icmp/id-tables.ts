/**
 * One table per ICMP identifier, keyed by it, remembering the one looked up last: nearly every
 * lookup of a probe key is for the identifier the last one had, and an array read then replaces a
 * Map lookup.
 */
export class IdTables<T> {
  private readonly tables = new Map<number, T>();
  private lastId = -1;
  private last: T | undefined;

  get(id: number): T | undefined {
    if (id === this.lastId) return this.last;
    const table = this.tables.get(id);
    if (table !== undefined) {
      this.lastId = id;
      this.last = table;
    }
    return table;
  }

  /** The identifier's table, made by `make` if it has none. */
  getOrCreate(id: number, make: () => T): T {
    let table = this.get(id);
    if (table === undefined) this.tables.set(id, (table = make()));
    return table;
  }

  delete(id: number): void {
    this.tables.delete(id);
    if (id === this.lastId) {
      this.lastId = -1;
      this.last = undefined;
    }
  }

  values(): IterableIterator<T> {
    return this.tables.values();
  }
}
