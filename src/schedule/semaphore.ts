/** A counting semaphore with a FIFO queue, so waiting runs start in the order they were due. */
export class Semaphore {
  private inUse = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(private limit: number) {}

  /** Takes a slot if one is free now (no promise made); false when the caller must acquire() and wait. */
  tryAcquire(): boolean {
    if (this.inUse >= this.limit) return false;
    this.inUse++;
    return true;
  }

  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    this.inUse--;
    this.drain();
  }

  /** A new limit applies at once when raised and as runs finish when lowered. */
  setLimit(limit: number): void {
    this.limit = limit;
    this.drain();
  }

  private drain(): void {
    while (this.inUse < this.limit && this.waiters.length > 0) {
      this.inUse++;
      this.waiters.shift()?.();
    }
  }
}
