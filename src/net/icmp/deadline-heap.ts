/** A binary min-heap of deadlines: one timer serves every probe in flight (the earliest one's). */
export class DeadlineHeap<T> {
  /** The values themselves, keyed by `deadline`: no wrapper object per value. */
  private readonly items: T[] = [];

  constructor(private readonly deadline: (value: T) => number) {}

  /** Deadlines held, settled ones not yet dropped included. */
  get size(): number {
    return this.items.length;
  }

  peek(): number | undefined {
    const top = this.items[0];
    return top === undefined ? undefined : this.deadline(top);
  }

  push(value: T): void {
    const items = this.items;
    const at = this.deadline(value);
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.deadline(items[parent]!) <= at) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }

  /** Drops values from the top while `stale` says so (lazy deletion of settled entries). */
  dropWhile(stale: (value: T) => boolean): void {
    while (this.items.length > 0 && stale(this.items[0]!)) this.pop();
  }

  /** Removes and returns every value due at or before `now`, earliest first. */
  popDue(now: number): T[] {
    const due: T[] = [];
    while (this.items.length > 0 && this.deadline(this.items[0]!) <= now) due.push(this.pop()!);
    return due;
  }

  private pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let smallest = i;
        if (l < items.length && this.deadline(items[l]!) < this.deadline(items[smallest]!)) smallest = l;
        if (r < items.length && this.deadline(items[r]!) < this.deadline(items[smallest]!)) smallest = r;
        if (smallest === i) break;
        [items[smallest], items[i]] = [items[i]!, items[smallest]!];
        i = smallest;
      }
    }
    return top;
  }
}
