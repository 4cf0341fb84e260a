import type { MetricDef } from './catalogue.js';
import { Family } from './family.js';
import { LineWriter } from './line-writer.js';
import { OwnerSeries } from './owner-series.js';
import type { Rendered } from './owner-series.js';
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
 * (a check's run), and kept as bytes; a scrape only copies those bytes out, family by family,
 * yielding to the event loop between slices. The output is prom-client's, byte for byte.
 */
export class SeriesStore {
  private readonly families: Family[] = [];
  private readonly byName = new Map<string, Family>();
  private readonly owners = new Map<string, OwnerSeries>();
  private identity: Array<readonly [string, string]> = [];
  private identityKey = '[]';
  /** Bumped when every rendering is out of date: new identity labels, a new family. */
  private generation = 0;
  /** Series across owners, kept as owners render (a count per scrape walked every owner's series). */
  private total = 0;
  /** Scrapes writing now: while one is, a rendering it may hold is never written over. */
  private scrapes = 0;
  /** Where an owner's lines are written before they are copied to its own buffer. */
  private readonly scratch = new LineWriter();

  /**
   * The family of `def.name`, created on first use (families are written in creation order). Asked
   * again with other help or label names, it is redefined in place: series written before keep their
   * labels until they are swept. Counters must end in `_total` (both formats then share the lines).
   */
  family(def: MetricDef): Family {
    const existing = this.byName.get(def.name);
    if (!existing) {
      if (def.type === 'counter' && !def.name.endsWith('_total'))
        throw new TypeError(`counter ${def.name} must end in _total`);
      const family = new Family(def, this.families.length, this.identity);
      this.families.push(family);
      this.byName.set(def.name, family);
      this.generation++;
      return family;
    }
    const old = existing.def;
    if (old.type !== def.type || (old.buckets ?? []).join() !== (def.buckets ?? []).join())
      throw new TypeError(`${def.name} cannot change its type or buckets`);
    if (old.help === def.help && old.labels.join() === def.labels.join()) return existing;
    existing.redefine(def, this.identity);
    for (const owner of this.owners.values()) {
      if (!owner.has(existing)) continue;
      this.total -= owner.rendered?.size ?? 0;
      owner.rendered = undefined;
    }
    return existing;
  }

  /** The labels every series carries after its own (the agent's identity). A change re-renders all. */
  setIdentity(labels: Readonly<Record<string, string>>): void {
    const entries = Object.entries(labels);
    const key = JSON.stringify(entries);
    if (key === this.identityKey) return;
    this.identity = entries;
    this.identityKey = key;
    this.generation++;
    for (const family of this.families) family.redefine(family.def, entries);
  }

  /** The series of `key` (created empty on first use); write them in an update: begin ... end. */
  owner(key: string): OwnerSeries {
    let owner = this.owners.get(key);
    if (!owner) {
      owner = new OwnerSeries((done) => this.render(done));
      this.owners.set(key, owner);
    }
    return owner;
  }

  /** Removes every series of `key`. */
  forget(key: string): void {
    this.total -= this.owners.get(key)?.rendered?.size ?? 0;
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
    }
  }

  private async *write(openMetrics: boolean, pacer: Pacer, out: ChunkWriter): AsyncGenerator<Buffer> {
    // Renderings out of date (new identity labels after a reload) are brought up to date in slices.
    for (const owner of this.owners.values()) {
      if (this.current(owner)) continue;
      this.render(owner);
      if (pacer.due()) await pacer.pause();
    }
    const snapshot = Array.from(this.owners.values(), (owner) => this.current(owner) ?? this.render(owner));
    // Per owner, the place in its spans of the next family it has lines in: families go in order.
    const next = new Uint32Array(snapshot.length);
    for (const family of this.families) {
      if (!openMetrics && family.index > 0) out.copy(NEWLINE);
      out.copy(family.header(openMetrics));
      const i = family.index;
      for (let k = 0; k < snapshot.length; k++) {
        const { buf, spans } = snapshot[k] as Rendered;
        const at = next[k] ?? 0;
        if (spans[at] === i) {
          out.copy(buf, at === 0 ? 0 : (spans[at - 1] ?? 0), spans[at + 1] ?? 0);
          next[k] = at + 2;
        }
        if (((k + 1) & 31) === 0 && pacer.due()) {
          yield* out.full();
          await pacer.pause();
        }
      }
      yield* out.full();
      if (pacer.due()) await pacer.pause();
    }
  }

  private current(owner: OwnerSeries): Rendered | undefined {
    const r = owner.rendered;
    return r && r.generation === this.generation ? r : undefined;
  }

  /**
   * Renders an owner's lines, every family's, into one buffer: the owner's last one when no scrape
   * is writing and the lines fit (with room to spare for values that grow a digit), else a new
   * one. A new buffer per update was 1,200 allocations a second of 1-3 KB outside V8's heap at
   * 12,000 checks, and the allocator's heap grew with the holes they left.
   */
  private render(owner: OwnerSeries): Rendered {
    const last = owner.rendered;
    const reuse = this.scrapes === 0 && last !== undefined;
    const spans = reuse ? last.spans : [];
    spans.length = 0;
    const out = this.scratch;
    out.reset();
    owner.write(out, spans);
    const bytes = out.length;
    const buf = reuse && last.buf.length >= bytes ? last.buf : Buffer.allocUnsafeSlow(bytes + (bytes >> 3));
    out.copyTo(buf);
    out.release();
    const size = owner.size;
    this.total += size - (owner.rendered?.size ?? 0);
    if (reuse) {
      // In place: a new object per update would outlive the update and be promoted (as a map per
      // update was: see OwnerSeries.gaugeIndex).
      last.generation = this.generation;
      last.buf = buf;
      last.size = size;
      return last;
    }
    const rendered = { generation: this.generation, buf, spans, size };
    owner.rendered = rendered;
    return rendered;
  }
}
