import type { MetricDef } from './catalogue.js';
import { Family } from './family.js';
import { GaugeLines } from './gauge-lines.js';
import { LineWriter, markKind, markOffset } from './line-writer.js';
import { OwnerSeries } from './owner-series.js';
import { giveBack, NO_ROOM, SizeClassPool } from '../slabs.js';
import type { OwnerHost, Rendered } from './owner-series.js';
import type { ChunkWriter, Pacer } from './scrape-chunks.js';

export { Family } from './family.js';
export { OwnerSeries } from './owner-series.js';
export type { KeepSeries } from './owner-series.js';

const NEWLINE = Buffer.from('\n');

/**
 * The series that grow with the config (per check, per IP, per target), kept out of prom-client.
 *
 * prom-client renders every series on every scrape in one go: at 500,000 series that held the
 * event loop for seconds. Here each owner's sample lines are rendered once, when its update ends
 * (a check's run), and kept as bytes; a scrape only copies those bytes out, family by family, with
 * the identity labels put in where each line's mark says, yielding to the event loop between
 * slices. The output is prom-client's, byte for byte.
 */
export class SeriesStore implements OwnerHost {
  private readonly families: Family[] = [];
  private readonly byName = new Map<string, Family>();
  private readonly owners = new Map<string, OwnerSeries>();
  private identity: Array<readonly [string, string]> = [];
  private identityKey = '[]';
  /** Series across owners, kept as owners render (a count per scrape walked every owner's series). */
  private total = 0;
  /** Scrapes writing now: while one is, a rendering it may hold is never written over. */
  private scrapes = 0;
  /** Where renderings live. */
  private readonly slabs = new SizeClassPool();
  /** Renderings replaced or dropped while a scrape may hold them: their room is given back when none does. */
  private readonly held: Rendered[] = [];
  /** Where an owner's lines are written before they are copied to its own buffer. */
  private readonly scratch = new LineWriter();
  private readonly spans: number[] = [];
  readonly gauges = new GaugeLines(this.scratch);

  /**
   * The family of `def.name`, created on first use (families are written in creation order). Asked
   * again with other help or label names, it is redefined in place: lines written before keep their
   * labels until their owner's next update, unless the new label names change which identity labels
   * its lines carry (a label of its own now shadows one, or no longer does): those owners' lines go
   * until their next update, since a scrape would put the new identity into lines of the old labels
   * (a label twice, which fails the whole scrape, or one missing). Counters must end in `_total`
   * (both formats then share the lines).
   */
  family(def: MetricDef): Family {
    const existing = this.byName.get(def.name);
    if (!existing) {
      if (def.type === 'counter' && !def.name.endsWith('_total'))
        throw new TypeError(`counter ${def.name} must end in _total`);
      const family = new Family(def, this.families.length, this.identity);
      this.families.push(family);
      this.byName.set(def.name, family);
      return family;
    }
    const old = existing.def;
    if (old.type !== def.type || (old.buckets ?? []).join() !== (def.buckets ?? []).join())
      throw new TypeError(`${def.name} cannot change its type or buckets`);
    if (old.help === def.help && old.labels.join() === def.labels.join()) return existing;
    const identityBefore = existing.identity;
    existing.redefine(def, this.identity);
    if (identityBefore.every((piece, kind) => existing.identity[kind]?.equals(piece))) return existing;
    for (const owner of this.owners.values()) {
      const r = owner.rendered;
      if (!r || !hasSpan(r, existing.index)) continue;
      this.total -= r.size;
      owner.rendered = undefined;
      this.release(r);
    }
    return existing;
  }

  /**
   * The labels every series carries (the agent's identity), from the next scrape on: after its own,
   * except in a histogram's lines (after `le` in a bucket's, before its own in the sum's and count's).
   */
  setIdentity(labels: Readonly<Record<string, string>>): void {
    const entries = Object.entries(labels);
    const key = JSON.stringify(entries);
    if (key === this.identityKey) return;
    this.identity = entries;
    this.identityKey = key;
    for (const family of this.families) family.redefine(family.def, entries);
  }

  /** The series of `key` (created empty on first use); write them in an update: begin ... end. */
  owner(key: string): OwnerSeries {
    let owner = this.owners.get(key);
    if (!owner) {
      owner = new OwnerSeries(this);
      this.owners.set(key, owner);
    }
    return owner;
  }

  /** Removes every series of `key` (an update of it in progress is abandoned). */
  forget(key: string): void {
    const owner = this.owners.get(key);
    if (!owner) return;
    if (this.gauges.owner === owner) this.gauges.end();
    this.total -= owner.rendered?.size ?? 0;
    if (owner.rendered) this.release(owner.rendered);
    this.owners.delete(key);
  }

  /** Series held across owners, as Prometheus counts them (every bucket of a histogram is one). */
  seriesCount(): number {
    return this.total;
  }

  /** Whether there is any family to write. */
  get empty(): boolean {
    return this.families.length === 0;
  }

  /**
   * Writes every family into `out` (OpenMetrics headers or Prometheus text with a blank line between
   * families), yielding full chunks as they fill and pausing whenever `pacer` says the slice is used
   * up. What is written is the state when the scrape starts: owners rendered then, as bytes that
   * later updates replace rather than change.
   */
  async *chunks(openMetrics: boolean, pacer: Pacer, out: ChunkWriter): AsyncGenerator<Buffer> {
    this.scrapes++;
    try {
      yield* this.write(openMetrics, pacer, out);
    } finally {
      this.scrapes--;
      if (this.scrapes === 0) for (let r = this.held.pop(); r !== undefined; r = this.held.pop()) giveBack(r);
    }
  }

  /** Gives a rendering's room back, once no scrape may be writing it. */
  private release(r: Rendered): void {
    if (this.scrapes === 0) giveBack(r);
    else this.held.push(r);
  }

  private async *write(openMetrics: boolean, pacer: Pacer, out: ChunkWriter): AsyncGenerator<Buffer> {
    const snapshot: Rendered[] = [];
    for (const owner of this.owners.values()) if (owner.rendered) snapshot.push(owner.rendered);
    // The identity as the scrape began, should it change before the scrape ends.
    const identities = this.families.map((family) => family.identity);
    // Per owner, the next of its spans to write and that span's family (-1 past the last, UNREAD
    // until the first family's pass reads it, inside the paced loop: read up front for 24,000
    // owners, about 2.5 ms of buffers out of cache, it began every scrape with a block): families
    // go in order, and every owner is asked for every family (a read of the buffer per ask was a
    // tenth of a scrape's time on Node 20).
    const next = new Uint32Array(snapshot.length);
    const nextFamily = new Int32Array(snapshot.length).fill(UNREAD);
    for (const family of this.families) {
      if (!openMetrics && family.index > 0) out.copy(NEWLINE);
      out.copy(family.header(openMetrics));
      const i = family.index;
      const identity = identities[i] ?? family.identity;
      const longest = Math.max(...identity.map((piece) => piece.length));
      for (let k = 0; k < snapshot.length; k++) {
        if (nextFamily[k] === UNREAD) nextFamily[k] = spanFamily(snapshot[k] as Rendered, 0);
        if (nextFamily[k] === i) {
          const r = snapshot[k] as Rendered;
          const at = next[k] ?? 0;
          if (!writeSpan(out, r, at, identity, longest)) yield* writeLargeSpan(out, r, at, identity, pacer);
          next[k] = at + 1;
          nextFamily[k] = spanFamily(r, at + 1);
        }
        if (((k + 1) & 31) === 0 && (out.filled || pacer.due())) yield* handOver(out, pacer);
      }
      yield* handOver(out, pacer);
    }
  }

  /**
   * Renders an owner's lines, every family's, into its place: the owner's last one when no scrape
   * is writing and the lines fit, else a new one (see slabs.ts). A new buffer per update
   * was 1,200 allocations a second of 1-3 KB outside V8's heap at 12,000 checks, and the
   * allocator's heap grew with the holes they left.
   */
  render(owner: OwnerSeries): void {
    if (this.gauges.owner !== owner) throw new TypeError('an owner is rendered while its update ends');
    const last = owner.rendered;
    const spans = this.spans;
    spans.length = 0;
    // The update's gauge lines are at the writer's start: the rendering goes after them.
    const out = this.scratch;
    const from = out.length;
    const marksFrom = out.markLength;
    owner.write(out, spans);
    const marksAt = (out.length - from + 3) & ~3;
    const spansAt = marksAt + (out.markLength - marksFrom) * 4;
    const bytes = spansAt + spans.length * 4;
    // In place when no scrape holds it: a new object per update would outlive the update and be
    // promoted (as a map per owner cleared per update was). A literal, not a spread of noPlace():
    // a spread's fields past its first five went to a property array of their own (24,000 of them).
    const r: Rendered =
      last !== undefined && this.scrapes === 0
        ? last
        : { buf: NO_ROOM, base: 0, room: 0, slab: undefined, slot: 0, marksAt, spansAt, spans: 0, size: 0 };
    if (r !== last && last !== undefined) this.release(last);
    if (r !== last || r.room < bytes) {
      giveBack(r);
      this.slabs.take(bytes, r);
    }
    const { buf, base } = r;
    out.copyTo(buf, base, from, marksFrom, marksAt);
    for (let i = 0; i < spans.length; i += SPAN_WORDS) {
      const at = base + spansAt + i * 4;
      buf.writeUInt32LE(spans[i + SPAN_FAMILY] ?? 0, at + SPAN_FAMILY * 4);
      buf.writeUInt32LE((spans[i + SPAN_TEXT_END] ?? 0) - from, at + SPAN_TEXT_END * 4);
      buf.writeUInt32LE((spans[i + SPAN_MARKS_END] ?? 0) - marksFrom, at + SPAN_MARKS_END * 4);
    }
    out.release();
    const size = owner.size;
    this.total += size - (last?.size ?? 0);
    r.marksAt = marksAt;
    r.spansAt = spansAt;
    r.spans = spans.length / SPAN_WORDS;
    r.size = size;
    owner.rendered = r;
  }
}

/** A span: its family's index, the end of its lines, the end of its marks (32-bit words, in this order). */
const SPAN_FAMILY = 0;
const SPAN_TEXT_END = 1;
const SPAN_MARKS_END = 2;
const SPAN_WORDS = 3;

/** Word `field` of span `at` of `r`; a span's lines and marks start where the one before ends (the first at 0). */
function spanWord(r: Rendered, at: number, field: number): number {
  return at < 0 ? 0 : r.buf.readUInt32LE(r.base + r.spansAt + (at * SPAN_WORDS + field) * 4);
}

/** nextFamily's value for an owner whose first span the scrape has not read yet. */
const UNREAD = -2;

/** Whether `r` has lines of the family at `index`. */
function hasSpan(r: Rendered, index: number): boolean {
  for (let at = 0; at < r.spans; at++) if (spanFamily(r, at) === index) return true;
  return false;
}

/** The family of span `at` of `r`; -1 when it has no such span. */
function spanFamily(r: Rendered, at: number): number {
  return at < r.spans ? spanWord(r, at, SPAN_FAMILY) : -1;
}

/**
 * Span `at` of `r`: its lines, with `identity` (by mark kind; its longest piece `longest` bytes) at
 * each mark. False, and nothing written, when the room that takes (the lines with the longest piece
 * at every mark) is more than a chunk holds.
 */
function writeSpan(out: ChunkWriter, r: Rendered, at: number, identity: readonly Buffer[], longest: number): boolean {
  const { buf, base } = r;
  const marksAt = base + r.marksAt;
  const start = spanWord(r, at - 1, SPAN_TEXT_END);
  const end = spanWord(r, at, SPAN_TEXT_END);
  const firstMark = spanWord(r, at - 1, SPAN_MARKS_END);
  const endMark = spanWord(r, at, SPAN_MARKS_END);
  if (longest === 0) {
    // No identity labels: the lines as they are, in one copy.
    out.copy(buf, base + start, base + end);
    return true;
  }
  // Room for the lines with the longest identity piece at every mark; the lines are copied to its
  // far end, then moved up segment by segment with each identity piece put in between: one copy out
  // of `buf` per span (a range copied out of a buffer is a new view on Node 20), not one per line.
  const bytes = end - start;
  const room = bytes + (endMark - firstMark) * longest;
  const chunk = out.reserve(room);
  if (chunk === undefined) return false;
  const head = out.at;
  const staged = head + room - bytes;
  buf.copy(chunk, staged, base + start, base + end);
  let to = head;
  let from = 0;
  for (let m = firstMark; m < endMark; m++) {
    const mark = buf.readUInt32LE(marksAt + m * 4);
    const offset = markOffset(mark) - start;
    chunk.copyWithin(to, staged + from, staged + offset);
    to += offset - from;
    const piece = identity[markKind(mark)] as Buffer;
    chunk.set(piece, to);
    to += piece.length;
    from = offset;
  }
  chunk.copyWithin(to, staged + from, staged + bytes);
  out.advance(to + bytes - from - head);
  return true;
}

/**
 * Hands the reader the chunks filled so far and, when the slice is used up, rests: the rest's timer
 * starts before the reader takes them, so a reader waiting for its socket or zlib to drain rests
 * the loop at the same time instead of before it.
 */
async function* handOver(out: ChunkWriter, pacer: Pacer): AsyncGenerator<Buffer> {
  const rest = pacer.due() ? pacer.pause() : undefined;
  yield* out.full();
  await rest;
}

/** Marks written between looks at the pacer in a large span (a look is a clock read). */
const LARGE_SPAN_STEP = 256;

/**
 * Span `at` of `r` when it is larger than a chunk (one owner's family of thousands of lines, such as
 * the target list: 1.7 MB at 11,000 targets), piece by piece across chunks, pausing when the slice
 * is used up. In one go that list held the loop for 5 ms (Node 20 and 22), more than two slices.
 * The owner's buffer stays as it is while a scrape runs: render() writes into it again only when no
 * scrape is under way.
 */
async function* writeLargeSpan(
  out: ChunkWriter,
  r: Rendered,
  at: number,
  identity: readonly Buffer[],
  pacer: Pacer,
): AsyncGenerator<Buffer> {
  const { buf, base } = r;
  const marksAt = base + r.marksAt;
  let from = spanWord(r, at - 1, SPAN_TEXT_END);
  const firstMark = spanWord(r, at - 1, SPAN_MARKS_END);
  const endMark = spanWord(r, at, SPAN_MARKS_END);
  for (let m = firstMark; m < endMark; m++) {
    const mark = buf.readUInt32LE(marksAt + m * 4);
    const offset = markOffset(mark);
    out.copy(buf, base + from, base + offset);
    out.copy(identity[markKind(mark)] as Buffer);
    from = offset;
    if ((m - firstMark) % LARGE_SPAN_STEP === LARGE_SPAN_STEP - 1) yield* handOver(out, pacer);
  }
  out.copy(buf, base + from, base + spanWord(r, at, SPAN_TEXT_END));
}
