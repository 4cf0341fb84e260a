import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RegistryContentType } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { MetricDef } from '../../src/metrics/catalogue.js';
import { labelPairs, pairsMatch } from '../../src/metrics/exposition-format.js';
import { openMetricsFromText } from '../../src/metrics/openmetrics.js';
import { ChunkPool, ChunkWriter, Pacer } from '../../src/metrics/scrape-chunks.js';
import { MetricRegistries } from '../../src/metrics/registries.js';
import { SeriesStore } from '../../src/metrics/series-store.js';

const G = {
  name: 'probe_thing',
  type: 'gauge',
  help: 'A gauge; "quoted", back\\slash,\nnewline.',
  labels: ['check', 'ip'],
};
const C = { name: 'thing_errors_total', type: 'counter', help: 'Errors.', labels: ['check', 'code'] };
const H = {
  name: 'thing_seconds',
  type: 'histogram',
  help: 'Durations.',
  labels: ['check'],
  buckets: [0.001, 0.25, 1, 10],
};
const EMPTY = { name: 'thing_never_written', type: 'gauge', help: 'No series.', labels: ['check'] };
const BARE = { name: 'thing_up', type: 'gauge', help: 'No labels of its own.', labels: [] };
const DEFS: MetricDef[] = [G, C, H, EMPTY, BARE] as MetricDef[];
const AGENT_COUNTER = {
  name: 'agent_events_total',
  type: 'counter',
  help: 'Agent events.',
  labels: ['event'],
} as const;

const IDENTITY = { agent: 'a"1', region: 'eu\\west', carrier: 'c\n2', network_type: 'fiber' };
const HOSTILE = 'x"\\\ny é';
const contentType = (openMetrics: boolean): RegistryContentType =>
  openMetrics ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE;

/** The store's Prometheus text, scraped at `pacer`'s pace into chunks of `pool`. */
async function scrapeText(store: SeriesStore, pacer: Pacer, pool = new ChunkPool()): Promise<string> {
  const out = new ChunkWriter(pool);
  const chunks: Buffer[] = [];
  for await (const chunk of store.chunks(false, pacer, out)) chunks.push(Buffer.from(chunk));
  chunks.push(...out.end());
  return Buffer.concat(chunks).toString();
}

/** The same series in the store, written in updates as the recorder writes them. */
function storeScenario(registries: MetricRegistries): void {
  const store = registries.series;
  const [g, c, h, , bare] = DEFS.map((def) => store.family(def));
  if (!g || !c || !h || !bare) throw new Error('families');
  registries.counter(AGENT_COUNTER).inc({ event: 'reload' }, 2);
  registries.setDefaultLabels(IDENTITY);
  store
    .owner('one')
    .begin(1)
    .set(g, ['one', '192.0.2.1'], 1)
    .set(g, ['one', '192.0.2.2'], NaN)
    .inc(c, ['one', 'E1'])
    .inc(c, ['one', 'E1'], 2.5)
    .observe(h, ['one'], 0.0005)
    .observe(h, ['one'], 0.3)
    .observe(h, ['one'], 20)
    .end();
  store
    .owner('two')
    .begin(1)
    .set(g, ['two', HOSTILE], Infinity)
    .set(g, ['two', '2001:db8::1'], 0.1 + 0.2)
    .inc(c, ['two', 'E2'], 0)
    .set(bare, [], 1e21)
    .end();
  // A second run of "one": 192.0.2.2 left its answers (its gauge goes), its counter and histogram stay.
  store.owner('one').begin(2).set(g, ['one', '192.0.2.1'], -Infinity).observe(h, ['one'], 1).end();
}

/** The same series in a fresh prom-client registry of `contentType`, the way prom-client alone would hold them. */
async function promClientScenario(openMetrics: boolean): Promise<string> {
  const registry = new Registry<RegistryContentType>();
  registry.setContentType(contentType(openMetrics));
  const registers = [registry];
  const g = new Gauge({ name: G.name, help: G.help, labelNames: G.labels, registers });
  const c = new Counter({ name: C.name, help: C.help, labelNames: C.labels, registers });
  const h = new Histogram({ name: H.name, help: H.help, labelNames: H.labels, buckets: H.buckets, registers });
  new Gauge({ name: EMPTY.name, help: EMPTY.help, labelNames: EMPTY.labels, registers });
  const bare = new Gauge({ name: BARE.name, help: BARE.help, registers });
  const agent = new Counter({ name: AGENT_COUNTER.name, help: AGENT_COUNTER.help, labelNames: ['event'], registers });
  agent.inc({ event: 'reload' }, 2);
  registry.setDefaultLabels(IDENTITY);
  g.set({ check: 'one', ip: '192.0.2.1' }, 1);
  g.set({ check: 'one', ip: '192.0.2.2' }, NaN);
  c.inc({ check: 'one', code: 'E1' });
  c.inc({ check: 'one', code: 'E1' }, 2.5);
  for (const v of [0.0005, 0.3, 20]) h.observe({ check: 'one' }, v);
  g.set({ check: 'two', ip: HOSTILE }, Infinity);
  g.set({ check: 'two', ip: '2001:db8::1' }, 0.1 + 0.2);
  c.inc({ check: 'two', code: 'E2' }, 0);
  bare.set(1e21);
  g.remove({ check: 'one', ip: '192.0.2.2' });
  g.set({ check: 'one', ip: '192.0.2.1' }, -Infinity);
  h.observe({ check: 'one' }, 1);
  return registry.metrics();
}

describe('SeriesStore exposition', () => {
  it.each([
    ['Prometheus text', false],
    ['OpenMetrics', true],
  ])('writes %s byte for byte as prom-client renders the same series', async (_format, openMetrics) => {
    const registries = new MetricRegistries({ processMetrics: false });
    storeScenario(registries);
    const ours = await registries.render(openMetrics);
    const theirs = await promClientScenario(openMetrics);
    expect(ours.body).toBe(theirs);
    expect(ours.contentType).toBe(openMetrics ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE);
  });

  it('escapes label values and help text, and spells NaN and infinities as prom-client does', async () => {
    const registries = new MetricRegistries({ processMetrics: false });
    storeScenario(registries);
    const { body } = await registries.render(false);
    const ids = 'agent="a\\"1",region="eu\\\\west",carrier="c\\n2",network_type="fiber"';
    expect(body).toContain('# HELP probe_thing A gauge; "quoted", back\\\\slash,\\nnewline.\n');
    expect(body).toContain(`probe_thing{check="two",ip="x\\"\\\\\\ny é",${ids}} +Inf\n`);
    expect(body).toContain(`probe_thing{check="one",ip="192.0.2.1",${ids}} -Inf\n`);
    expect(body).not.toContain('192.0.2.2",');
    expect(body).toContain(`thing_errors_total{check="one",code="E1",${ids}} 3.5\n`);
    expect(body).toContain(`thing_seconds_bucket{le="1",${ids},check="one"} 3\n`);
    expect(body).toContain(`thing_seconds_bucket{le="+Inf",${ids},check="one"} 4\n`);
    expect(body).toContain(`thing_up{${ids}} 1e+21\n`);
    // A family nobody wrote keeps its header, as prom-client writes it for a labelled metric.
    expect(body).toContain('# TYPE thing_never_written gauge\n\n# HELP thing_up');
  });

  it('interleaved owners give the same lines as prom-client (grouped by owner, not by first write)', async () => {
    const registries = new MetricRegistries({ processMetrics: false });
    const registry = new Registry();
    const g = registries.series.family(G as MetricDef);
    const pc = new Gauge({ name: G.name, help: G.help, labelNames: G.labels, registers: [registry] });
    // An update states all of its owner's gauges: each one writes every IP its owner has seen so far.
    const seen = new Map<string, Map<string, number>>();
    for (let i = 0; i < 30; i++) {
      const owner = `check-${(i * 7) % 5}`;
      const ip = `198.51.100.${i % 4}`;
      const values = seen.get(owner) ?? new Map<string, number>();
      seen.set(owner, values.set(ip, i));
      const update = registries.series.owner(owner).begin(i);
      for (const [oneIp, value] of values) update.set(g, [owner, oneIp], value);
      update.end();
      pc.set({ check: owner, ip }, i);
    }
    const lines = (text: string) => text.split('\n').filter(Boolean).sort();
    expect(lines((await registries.render(false)).body)).toEqual(lines(await registry.metrics()));
  });

  it('counts series as owners update, re-render and go; a gauge the latest update did not set is gone', async () => {
    const registries = new MetricRegistries({ processMetrics: false });
    const store = registries.series;
    const [g, c, h] = [G, C, H].map((def) => store.family(def as MetricDef));
    if (!g || !c || !h) throw new Error('families');
    const reused = ['a', '192.0.2.1'];
    store.owner('a').begin(1).set(g, reused, 1).set(g, ['a', '192.0.2.1'], 2).inc(c, ['a', 'E']).end();
    expect(store.seriesCount()).toBe(2);
    // A caller that fills the same array again gets a series of the new values.
    reused[1] = '192.0.2.3';
    store.owner('a').begin(1).set(g, reused, 1).set(g, ['a', '192.0.2.1'], 2).inc(c, ['a', 'E']).end();
    expect((await registries.render(false)).body).toContain('probe_thing{check="a",ip="192.0.2.3"} 1\n');
    store.owner('a').begin(1).set(g, ['a', '192.0.2.1'], 2).inc(c, ['a', 'E']).end();
    store.owner('b').begin(1).set(g, ['b', '192.0.2.2'], 1).observe(h, ['b'], 0.5).end();
    expect(store.seriesCount()).toBe(2 + 1 + (H.buckets.length + 3));
    // The next update of "a" sets another IP only: the first IP's gauge goes, its counter stays.
    store.owner('a').begin(2).set(g, ['a', '192.0.2.9'], 3).end();
    expect(store.seriesCount()).toBe(2 + 1 + (H.buckets.length + 3));
    const body = (await registries.render(false)).body;
    expect(body).toContain('probe_thing{check="a",ip="192.0.2.9"} 3\n');
    expect(body).not.toContain('ip="192.0.2.1"');
    store.family({ ...G, help: 'Redefined.' } as MetricDef);
    registries.setDefaultLabels({ agent: 'x' });
    await registries.render(false);
    expect(store.seriesCount()).toBe(2 + 1 + (H.buckets.length + 3));
    store.forget('b');
    expect(store.seriesCount()).toBe(2);
  });

  it('renders the last value of each gauge when updates set them in another order, again, or fewer', async () => {
    const registries = new MetricRegistries({ processMetrics: false });
    const store = registries.series;
    const g = store.family(G as MetricDef);
    const owner = store.owner('a');
    const ips = (text: string) =>
      [...text.matchAll(/^probe_thing\{check="a",ip="([^"]+)"\} (\S+)$/gm)].map((m) => `${m[1]}=${m[2]}`);
    owner.begin(1).set(g, ['a', '192.0.2.1'], 1).set(g, ['a', '192.0.2.2'], 2).set(g, ['a', '192.0.2.3'], 3).end();
    // Another order, one set twice after the order changed, one left out.
    owner.begin(2).set(g, ['a', '192.0.2.3'], 30).set(g, ['a', '192.0.2.1'], 10).set(g, ['a', '192.0.2.3'], 31).end();
    expect(ips((await registries.render(false)).body)).toEqual(['192.0.2.3=31', '192.0.2.1=10']);
    expect(store.seriesCount()).toBe(2);
    // Many gauges, then one: nothing of the others comes back.
    const many = owner.begin(3);
    for (let i = 0; i < 40; i++) many.set(g, ['a', `198.51.100.${i}`], i);
    // Set again once the update is past the gauges it scans for one (a map then).
    many.set(g, ['a', '198.51.100.3'], 333).end();
    const manyLines = ips((await registries.render(false)).body);
    expect(manyLines).toHaveLength(40);
    expect(manyLines).toContain('198.51.100.3=333');
    owner.begin(4).set(g, ['a', '198.51.100.7'], 70).end();
    owner.begin(5).set(g, ['a', '198.51.100.8'], 80).set(g, ['a', '198.51.100.7'], 71).end();
    expect(ips((await registries.render(false)).body)).toEqual(['198.51.100.8=80', '198.51.100.7=71']);
    expect(store.seriesCount()).toBe(2);
  });

  it("writes an update into the owner's last place unless a scrape may hold it", async () => {
    const registries = new MetricRegistries({ processMetrics: false, sliceMs: 0, restMs: 0 });
    const g = registries.series.family(G as MetricDef);
    const owner = registries.series.owner('a');
    const place = (): [Buffer | undefined, number | undefined] => [owner.rendered?.buf, owner.rendered?.base];
    owner.begin(0).set(g, ['a', '192.0.2.1'], 1).end();
    const first = owner.rendered;
    const firstPlace = place();
    owner.begin(1).set(g, ['a', '192.0.2.1'], 22).end();
    expect(owner.rendered).toBe(first);
    expect(place()).toStrictEqual(firstPlace);

    const scrape = registries.render(false);
    let during: ReturnType<typeof place> | undefined;
    setImmediate(() => {
      owner.begin(2).set(g, ['a', '192.0.2.1'], 333).end();
      during = place();
    });
    expect((await scrape).body).toContain('probe_thing{check="a",ip="192.0.2.1"} 22');
    expect(during).toBeDefined();
    expect(owner.rendered).not.toBe(first);
    expect(during?.[0] === firstPlace[0] && during?.[1] === firstPlace[1]).toBe(false);
    // Longer lines than the place holds get a new one; the bytes written are the new lines only.
    owner.begin(3).set(g, ['a', '192.0.2.1'], 1.2345678901234567).end();
    expect((await registries.render(false)).body).toContain(
      'probe_thing{check="a",ip="192.0.2.1"} 1.2345678901234567\n',
    );
  });

  it('lends no room a scrape may still write from, whoever asks for room during it', async () => {
    const store = new SeriesStore();
    store.setIdentity(IDENTITY);
    const g = store.family(G as MetricDef);
    const update = (name: string, value: number, ips = 1): void => {
      const u = store.owner(name).begin(value);
      for (let i = 0; i < ips; i++) u.set(g, [name, `192.0.2.${i}`], value);
      u.end();
    };
    // Enough owners before the two that change for the scrape to pause before it reaches them.
    for (let i = 0; i < 40; i++) update(`filler${i}`, i);
    update('moves', 1);
    update('going', 2);
    const scrape = (pacer: Pacer): Promise<string> => scrapeText(store, pacer);
    const before = await scrape(new Pacer(Number.POSITIVE_INFINITY, 0));
    let pauses = 0;
    class ChangingPacer extends Pacer {
      override async pause(): Promise<void> {
        if (++pauses === 1) {
          update('moves', 3, 8);
          store.forget('going');
          // Owners of the size the two had: a slot given back at once would be theirs.
          for (let i = 0; i < 8; i++) update(`new_${i}`, i);
        }
        await super.pause();
      }
    }
    expect(await scrape(new ChangingPacer(0, 0))).toBe(before);
    expect(pauses).toBeGreaterThan(1);
    const after = await scrape(new Pacer(0, 0));
    expect(after).toContain('probe_thing{check="moves",ip="192.0.2.7",agent=');
    expect(after).not.toContain('check="going"');
    expect(after).toContain('probe_thing{check="new_7",ip="192.0.2.0",agent=');
    expect(after).toContain('probe_thing{check="filler0",ip="192.0.2.0",agent=');
  });

  it('writes the identity a scrape began with into every line of every kind; a change, from the next', async () => {
    const registries = new MetricRegistries({ processMetrics: false, sliceMs: 0, restMs: 0 });
    const store = registries.series;
    const [g, c, h, bare] = [G, C, H, BARE].map((def) => store.family(def as MetricDef));
    if (!g || !c || !h || !bare) throw new Error('families');
    registries.setDefaultLabels({ agent: 'old' });
    for (const owner of ['c', 'd'])
      store
        .owner(owner)
        .begin(0)
        .set(g, [owner, '192.0.2.1'], 1)
        .set(bare, [], 2)
        .inc(c, [owner, 'E'])
        .observe(h, [owner], 0.5)
        .end();
    expect((await registries.render(false)).body).toContain('probe_thing{check="c",ip="192.0.2.1",agent="old"} 1');
    const scrape = registries.render(false);
    setImmediate(() => registries.setDefaultLabels({ agent: 'new', region: 'r' }));
    const during = (await scrape).body;
    expect(during).not.toContain('agent="new"');
    expect(during).toContain('thing_seconds_sum{agent="old",check="d"} 0.5');
    const ids = 'agent="new",region="r"';
    const body = (await registries.render(false)).body;
    for (const line of [
      `probe_thing{check="c",ip="192.0.2.1",${ids}} 1`,
      `thing_up{${ids}} 2`,
      `thing_errors_total{check="d",code="E",${ids}} 1`,
      `thing_seconds_bucket{le="1",${ids},check="c"} 1`,
      `thing_seconds_count{${ids},check="d"} 1`,
    ])
      expect(body).toContain(`${line}\n`);
    expect(body).not.toContain('agent="old"');
  });

  it('refuses writes to an update not begun or abandoned by another begin; its owner keeps its lines', async () => {
    const registries = new MetricRegistries({ processMetrics: false });
    const store = registries.series;
    const g = store.family(G as MetricDef);
    const c = store.family(C as MetricDef);
    store.owner('a').begin(0).set(g, ['a', '192.0.2.1'], 1).end();
    const a = store.owner('a').begin(1).set(g, ['a', '192.0.2.1'], 2);
    store.owner('b').begin(1).set(g, ['b', '192.0.2.2'], 3);
    expect(() => a.set(g, ['a', '192.0.2.1'], 4)).toThrow(TypeError);
    expect(() => a.inc(c, ['a', 'E'])).toThrow(TypeError);
    expect(() => a.end()).toThrow(TypeError);
    store.owner('b').end();
    expect(() => store.owner('b').end()).toThrow(TypeError);
    const body = (await registries.render(false)).body;
    expect(body).toContain('probe_thing{check="a",ip="192.0.2.1"} 1\n');
    expect(body).toContain('probe_thing{check="b",ip="192.0.2.2"} 3\n');
    expect(body).not.toContain('thing_errors_total{');
    // Forgetting an owner abandons its update: ending it then throws and counts nothing back.
    const c2 = store.owner('c').begin(2).set(g, ['c', '192.0.2.3'], 1);
    store.forget('c');
    expect(() => c2.end()).toThrow(TypeError);
    expect(store.seriesCount()).toBe(2);
  });

  it('drops lines whose identity a redefinition changed until their owner writes again; no label twice', async () => {
    const registries = new MetricRegistries({ processMetrics: false });
    const store = registries.series;
    registries.setDefaultLabels({ agent: 'A', region: 'R' });
    const info = { name: 'thing_info', type: 'gauge', help: 'Info.', labels: ['target', 'region'] } as MetricDef;
    const f = store.family(info);
    for (const t of ['x', 'y']) store.owner(t).begin(0).set(f, [t, 'own'], 1).end();
    expect(store.seriesCount()).toBe(2);
    // Help only: the lines stay as they are.
    store.family({ ...info, help: 'Other help.' });
    expect((await registries.render(false)).body).toContain('thing_info{target="y",region="own",agent="A"} 1\n');
    // `region` is no longer its own: the identity's region now goes on its lines; lines of the old labels go.
    const g = store.family({ ...info, labels: ['target'] });
    store.owner('x').begin(1).set(g, ['x'], 2).end();
    const body = (await registries.render(false)).body;
    expect(body).toContain('thing_info{target="x",agent="A",region="R"} 2\n');
    expect(body).not.toContain('target="y"');
    expect(store.seriesCount()).toBe(1);
    store.owner('y').begin(2).set(g, ['y'], 3).end();
    expect((await registries.render(false)).body).toContain('thing_info{target="y",agent="A",region="R"} 3\n');
    expect(store.seriesCount()).toBe(2);
  });

  it('lets the event loop run between slices and writes the series as they were when the scrape began', async () => {
    const registries = new MetricRegistries({ processMetrics: false, sliceMs: 0, restMs: 0 });
    const g = registries.series.family(G as MetricDef);
    const c = registries.series.family(C as MetricDef);
    for (const owner of ['a', 'b'])
      registries.series.owner(owner).begin(0).set(g, [owner, '192.0.2.1'], 1).inc(c, [owner, 'E']).end();
    const scrape = registries.render(false);
    let ranDuringScrape = false;
    setImmediate(() => {
      ranDuringScrape = true;
      registries.series.forget('a');
      registries.series.owner('b').begin(1).set(g, ['b', '192.0.2.1'], 2).end();
    });
    const body = (await scrape).body;
    expect(ranDuringScrape).toBe(true);
    expect(body).toContain('probe_thing{check="a",ip="192.0.2.1"} 1');
    expect(body).toContain('thing_errors_total{check="a",code="E"} 1');
    expect(body).toContain('probe_thing{check="b",ip="192.0.2.1"} 1');
    const next = (await registries.render(false)).body;
    expect(next).not.toContain('check="a"');
    expect(next).toContain('probe_thing{check="b",ip="192.0.2.1"} 2');
    expect(next).toContain('thing_errors_total{check="b",code="E"} 1');
  });

  it('renders a large owner (past the scan, past the line buffer) as prom-client does, then a small one', async () => {
    const registries = new MetricRegistries({ processMetrics: false });
    registries.setDefaultLabels(IDENTITY);
    const store = registries.series;
    const [g, c, h] = [G, C, H].map((def) => store.family(def as MetricDef));
    if (!g || !c || !h) throw new Error('families');
    const registry = new Registry();
    registry.setDefaultLabels(IDENTITY);
    const registers = [registry];
    const pg = new Gauge({ name: G.name, help: G.help, labelNames: G.labels, registers });
    const pc = new Counter({ name: C.name, help: C.help, labelNames: C.labels, registers });
    const ph = new Histogram({ name: H.name, help: H.help, labelNames: H.labels, buckets: H.buckets, registers });
    const ip = (i: number) => `2001:db8:${i.toString(16)}::${HOSTILE}`;
    const big = store.owner('big').begin(1);
    for (let i = 0; i < 2000; i++) {
      big.set(g, ['big', ip(i)], i / 7);
      pg.set({ check: 'big', ip: ip(i) }, i / 7);
    }
    for (let i = 0; i < 40; i++) {
      big.inc(c, ['big', `E${i}`], i);
      pc.inc({ check: 'big', code: `E${i}` }, i);
      big.observe(h, [`big-${i % 3}`], i / 10);
      ph.observe({ check: `big-${i % 3}` }, i / 10);
    }
    big.end();
    // Larger than a chunk: the span is written piece by piece (writeLargeSpan).
    expect((await registries.render(false)).body.length).toBeGreaterThan(new ChunkPool().size);
    expect((await registries.render(false)).body).toBe(await registry.metrics());
    // The next update sets half the gauges and two counters; `keep` drops the counters not seen.
    const next = store.owner('big').begin(2);
    pg.reset();
    for (let i = 0; i < 2000; i += 2) {
      next.set(g, ['big', ip(i)], -i);
      pg.set({ check: 'big', ip: ip(i) }, -i);
    }
    next.inc(c, ['big', 'E39']).inc(c, ['big', 'E5']);
    for (let i = 0; i < 40; i++) if (i !== 39 && i !== 5) pc.remove({ check: 'big', code: `E${i}` });
    pc.inc({ check: 'big', code: 'E39' });
    pc.inc({ check: 'big', code: 'E5' });
    next.end((type, seen) => type !== 'counter' || seen);
    expect((await registries.render(false)).body).toBe(await registry.metrics());
    store.owner('small').begin(3).set(g, ['small', '192.0.2.1'], 1).end();
    pg.set({ check: 'small', ip: '192.0.2.1' }, 1);
    expect((await registries.render(false)).body).toBe(await registry.metrics());
  });

  it('pauses inside a span larger than a chunk and writes it as it was when the scrape began', async () => {
    const store = new SeriesStore();
    store.setIdentity(IDENTITY);
    const g = store.family(G as MetricDef);
    const owner = store.owner('big');
    const LINES = 6000;
    const update = (value: number): void => {
      const u = owner.begin(value);
      for (let i = 0; i < LINES; i++) u.set(g, ['big', `2001:db8::${i.toString(16)}`], value);
      u.end();
    };
    update(1);
    const pool = new ChunkPool();
    const scrape = (pacer: Pacer): Promise<string> => scrapeText(store, pacer, pool);
    const unpaused = await scrape(new Pacer(Number.POSITIVE_INFINITY, 0));
    let pauses = 0;
    class UpdatingPacer extends Pacer {
      override async pause(): Promise<void> {
        if (++pauses === 1) update(2);
        await super.pause();
      }
    }
    const paused = await scrape(new UpdatingPacer(0, 0));
    expect(paused.length).toBeGreaterThan(pool.size);
    expect(pauses).toBeGreaterThanOrEqual(Math.floor(LINES / 256));
    expect(paused).toBe(unpaused);
    const next = await scrape(new Pacer(0, 0));
    expect(next).toContain(`probe_thing{check="big",ip="2001:db8::0",agent=`);
    expect(next).not.toMatch(/} 1\n/);
    expect(next.replaceAll('} 2\n', '} 1\n')).toBe(unpaused);
  });

  it('keeps each counter once when a keep rule throws halfway', async () => {
    const registries = new MetricRegistries({ processMetrics: false });
    const c = registries.series.family(C as MetricDef);
    const owner = registries.series.owner('k').begin(1);
    for (const code of ['E1', 'E2', 'E3']) owner.inc(c, ['k', code]);
    let asked = 0;
    expect(() =>
      owner.end(() => {
        if (++asked === 2) throw new Error('rule failed');
        return true;
      }),
    ).toThrow('rule failed');
    registries.series.owner('k').begin(2).end();
    const lines = (await registries.render(false)).body.split('\n').filter((l) => l.startsWith('thing_errors_total'));
    expect(lines).toEqual([1, 2, 3].map((n) => `thing_errors_total{check="k",code="E${n}"} 1`));
  });

  it('tells whether rendered label pairs say the given values, escapes included, without rendering them', () => {
    const cases: Array<[string[], string[]]> = [
      [[], []],
      [['check'], ['']],
      [
        ['check', 'ip'],
        ['a', '192.0.2.1'],
      ],
      [
        ['check', 'ip'],
        ['a', HOSTILE],
      ],
      [
        ['check', 'ip'],
        ['a",ip="b', 'c'],
      ],
    ];
    for (const [names, values] of cases) {
      const rendered = labelPairs(names, values);
      expect(pairsMatch(rendered, names, values)).toBe(true);
      for (let i = 0; i < values.length; i++) {
        for (const other of [`${values[i]}x`, (values[i] ?? '').slice(1), 'é']) {
          if (other === values[i]) continue;
          expect(
            pairsMatch(
              rendered,
              names,
              values.map((v, j) => (j === i ? other : v)),
            ),
          ).toBe(false);
        }
        expect(
          pairsMatch(
            rendered,
            names.map((n, j) => (j === i ? `${n}s` : n)),
            values,
          ),
        ).toBe(false);
      }
      expect(pairsMatch(rendered, [...names, 'extra'], [...values, ''])).toBe(false);
      if (names.length > 0) expect(pairsMatch(rendered, names.slice(1), values.slice(1))).toBe(false);
    }
  });

  it('refuses a sample of the wrong type or label count, and ignores a counter going down', () => {
    const registries = new MetricRegistries({ processMetrics: false });
    const g = registries.series.family(G as MetricDef);
    const c = registries.series.family(C as MetricDef);
    const owner = registries.series.owner('x').begin(0);
    expect(() => owner.inc(g, ['x', 'y'])).toThrow(/probe_thing is a gauge, not a counter/);
    expect(() => owner.set(g, ['x'], 1)).toThrow(/takes 2 label values, got 1/);
    expect(() => registries.series.family({ ...C, name: 'thing_errors' } as MetricDef)).toThrow(/_total/);
    expect(() => registries.series.family({ ...G, type: 'counter' } as MetricDef)).toThrow(/type or buckets/);
    owner.inc(c, ['x', 'E'], 2).inc(c, ['x', 'E'], -1).inc(c, ['x', 'E'], NaN).end();
    return expect(registries.render(false).then((r) => r.body)).resolves.toContain(
      'thing_errors_total{check="x",code="E"} 2',
    );
  });
});

describe('OpenMetrics from prom-client text', () => {
  it('equals prom-client own OpenMetrics render, a counter without _total included', async () => {
    const build = (openMetrics: boolean) => {
      const registry = new Registry<RegistryContentType>();
      registry.setContentType(contentType(openMetrics));
      const registers = [registry];
      new Counter({ name: 'reloads_total', help: 'R\\n', labelNames: ['result'], registers }).inc({ result: 'ok' });
      new Counter({ name: 'legacy_count', help: 'No suffix.', registers }).inc(3);
      new Gauge({ name: 'empty_gauge', help: 'E.', labelNames: ['x'], registers });
      new Histogram({ name: 'lag_seconds', help: 'L.', buckets: [0.1], registers }).observe(0.05);
      registry.setDefaultLabels({ agent: 'a' });
      return registry;
    };
    expect(openMetricsFromText(await build(false).metrics())).toBe(await build(true).metrics());
    expect(openMetricsFromText(await new Registry().metrics())).toBe('# EOF\n');
  });

  it('keeps _total on counters in a text scrape that follows an OpenMetrics scrape', async () => {
    const registries = new MetricRegistries({ processMetrics: false });
    registries.counter(AGENT_COUNTER).inc({ event: 'x' });
    expect((await registries.render(true)).body).toContain('# TYPE agent_events counter\nagent_events_total{');
    expect((await registries.render(false)).body).toContain('# TYPE agent_events_total counter\nagent_events_total{');
  });
});

describe('scrape chunks', () => {
  it('packs pieces across chunk borders; a chunk is filled again only once released, and only once', () => {
    const pool = new ChunkPool(4);
    const out = new ChunkWriter(pool);
    out.copy(Buffer.from('abcdefghij'), 1, 8);
    const full = out.full();
    const last = out.end();
    expect([...full, ...last].map(String)).toEqual(['bcde', 'fgh']);
    const [written] = full;
    const [part] = last;
    if (!written || !part) throw new Error('chunks');
    expect(pool.take().buffer).not.toBe(written.buffer);
    pool.release(written);
    pool.release(written);
    expect(pool.take().buffer).toBe(written.buffer);
    expect(pool.take().buffer).not.toBe(written.buffer);
    pool.release(part);
    expect(pool.take().buffer).toBe(part.buffer);
  });

  it('rests between slices: a timer due within the rest runs before the next slice starts', async () => {
    const ran: string[] = [];
    setTimeout(() => ran.push('timer due in 1 ms'), 1);
    await new Pacer(0, 2).pause();
    ran.push('next slice');
    expect(ran).toEqual(['timer due in 1 ms', 'next slice']);
  });

  it('reserves room in one chunk to be written directly, starting a new one when this one has too little', () => {
    const out = new ChunkWriter(new ChunkPool(8));
    out.copy(Buffer.from('abcde'));
    expect(out.reserve(9)).toBeUndefined();
    const same = out.reserve(3);
    if (!same) throw new Error('room');
    same.write('fgh', out.at);
    out.advance(3);
    const next = out.reserve(4);
    if (!next) throw new Error('room');
    expect(out.at).toBe(0);
    next.write('ijkl', out.at);
    out.advance(4);
    const fresh = out.reserve(5);
    if (!fresh) throw new Error('room');
    fresh.write('mnopq', out.at);
    out.advance(5);
    expect(out.end().map(String)).toEqual(['abcdefgh', 'ijkl', 'mnopq']);
  });
});
