/**
 * Room for many small, long-lived byte blocks (an owner's rendered series, a check's history ring),
 * cut from shared slabs. A buffer of its own cost each block some 400 bytes besides its bytes: the
 * ArrayBuffer and its views in V8's heap, the backing store's records and the allocator's headers
 * outside it. At 12,000 checks that was 10 MB for the renderings and 7 for the rings (heap
 * snapshots of the scale bench; 48,000 buffers in all).
 */

/** Where a block lives: `room` bytes of `slab.buf` from `base` (no slab: `buf` is the block's own). */
export interface Place {
  buf: Buffer;
  base: number;
  room: number;
  slab: Slab | undefined;
  slot: number;
}

/** The buffer of a place without room. */
export const NO_ROOM = Buffer.alloc(0);

/** An empty place, to be given room by a pool. */
export function noPlace(): Place {
  return { buf: NO_ROOM, base: 0, room: 0, slab: undefined, slot: 0 };
}

/** A slab's size, unless that is fewer than MIN_SLOTS slots. */
const SLAB_BYTES = 64 * 1024;
const MIN_SLOTS = 4;

/** Slots of one size cut from one buffer, with views of it by element type for blocks of numbers. */
export class Slab {
  readonly buf: Buffer;
  readonly slots: number;
  /** Free slots, a stack (the lowest on top at first). */
  readonly free: number[] = [];
  private float64: Float64Array | undefined;
  private float32: Float32Array | undefined;
  private uint16: Uint16Array | undefined;

  constructor(
    readonly pool: SlotPool,
    readonly slotBytes: number,
  ) {
    this.slots = Math.max(MIN_SLOTS, Math.floor(SLAB_BYTES / slotBytes));
    this.buf = Buffer.allocUnsafeSlow(this.slots * slotBytes);
    for (let slot = this.slots - 1; slot >= 0; slot--) this.free.push(slot);
  }

  /** The slab as doubles (a slot's base is a multiple of 8: its first is at base / 8). */
  get f64(): Float64Array {
    this.float64 ??= new Float64Array(this.buf.buffer, this.buf.byteOffset, this.buf.length >> 3);
    return this.float64;
  }

  /** The slab as 32-bit floats (a slot's first at base / 4). */
  get f32(): Float32Array {
    this.float32 ??= new Float32Array(this.buf.buffer, this.buf.byteOffset, this.buf.length >> 2);
    return this.float32;
  }

  /** The slab as 16-bit unsigned integers (a slot's first at base / 2). */
  get u16(): Uint16Array {
    this.uint16 ??= new Uint16Array(this.buf.buffer, this.buf.byteOffset, this.buf.length >> 1);
    return this.uint16;
  }
}

/** Slots of `slotBytes` (a multiple of 8, so any element type is aligned in every slot). */
export class SlotPool {
  /** Slabs with a free slot (the last one is taken from). */
  private readonly withRoom: Slab[] = [];
  private slabBytes = 0;

  constructor(readonly slotBytes: number) {
    if (slotBytes <= 0 || slotBytes % 8 !== 0)
      throw new RangeError(`slot size ${slotBytes} is not a positive multiple of 8`);
  }

  /** Bytes held in slabs. */
  get heldBytes(): number {
    return this.slabBytes;
  }

  /** Points `into` at a free slot, cutting a new slab when none has one; returns the slot's slab. */
  take(into: Place): Slab {
    let slab = this.withRoom.at(-1);
    if (slab === undefined) {
      slab = new Slab(this, this.slotBytes);
      this.slabBytes += slab.buf.length;
      this.withRoom.push(slab);
    }
    const slot = slab.free.pop() ?? 0;
    if (slab.free.length === 0) this.withRoom.pop();
    into.buf = slab.buf;
    into.base = slot * this.slotBytes;
    into.room = this.slotBytes;
    into.slab = slab;
    into.slot = slot;
    return slab;
  }

  /**
   * Gives a place's slot back (nothing for one given back already). A slab with every slot free is
   * let go unless it is the only one with room (a block that comes and goes would cut one each time).
   */
  give(place: Place): void {
    const slab = place.slab;
    if (slab === undefined) return;
    if (slab.pool !== this) throw new RangeError('a place is given back to a pool it is not from');
    place.slab = undefined;
    if (slab.free.length === 0) this.withRoom.push(slab);
    slab.free.push(place.slot);
    if (slab.free.length < slab.slots || this.withRoom.length === 1) return;
    this.withRoom.splice(this.withRoom.indexOf(slab), 1);
    this.slabBytes -= slab.buf.length;
  }
}

/** Slot pools by slot size, made on first use: blocks of one size share slabs. */
export class SlotPools {
  private readonly bySize = new Map<number, SlotPool>();

  /** The pool of slots for `bytes` (rounded up to a multiple of 8). */
  of(bytes: number): SlotPool {
    const size = Math.ceil(bytes / 8) * 8;
    let pool = this.bySize.get(size);
    if (!pool) {
      pool = new SlotPool(size);
      this.bySize.set(size, pool);
    }
    return pool;
  }
}

/**
 * The smallest slot, and each slot size RATIO times the one before, rounded up to 8 bytes (49 sizes
 * to MAX_SLOT): a block wastes about an eighth of its slot at most, a little more among the smallest.
 */
const MIN_SLOT = 64;
const RATIO = 1.125;
/** Blocks larger than this (the target list: 1.7 MB at 11,000 targets) get a buffer of their own. */
const MAX_SLOT = 16 * 1024;

/** Slot sizes, ascending, multiples of 8. */
const SLOT_SIZES: readonly number[] = (() => {
  const sizes: number[] = [];
  for (let size = MIN_SLOT; sizes.at(-1) !== MAX_SLOT; size *= RATIO)
    sizes.push(Math.min(MAX_SLOT, Math.ceil(size / 8) * 8));
  return sizes;
})();

/** Room for blocks of any size that change size now and then: a slot of the smallest size class that fits. */
export class SizeClassPool {
  private readonly pools = SLOT_SIZES.map((size) => new SlotPool(size));

  /** Bytes held in slabs (blocks of their own not counted). */
  get heldBytes(): number {
    return this.pools.reduce((sum, pool) => sum + pool.heldBytes, 0);
  }

  /**
   * Points `into` at room for `bytes` and some more (a value that grows a digit should not move its
   * block): a slot of the smallest size that fits, or past MAX_SLOT a buffer of its own.
   */
  take(bytes: number, into: Place): void {
    const want = bytes + (bytes >> 4);
    const pool = want > MAX_SLOT ? undefined : this.pools[classOf(want)];
    if (pool !== undefined) {
      pool.take(into);
      return;
    }
    into.buf = Buffer.allocUnsafeSlow(bytes + (bytes >> 3));
    into.base = 0;
    into.room = into.buf.length;
    into.slab = undefined;
    into.slot = 0;
  }
}

/** Gives `place`'s slot back to its pool (nothing for a buffer of its own, or a place given back already). */
export function giveBack(place: Place): void {
  place.slab?.pool.give(place);
}

/** The smallest size class of at least `bytes` (at most MAX_SLOT). */
function classOf(bytes: number): number {
  let low = 0;
  let high = SLOT_SIZES.length - 1;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((SLOT_SIZES[mid] ?? MAX_SLOT) >= bytes) high = mid;
    else low = mid + 1;
  }
  return low;
}
