// @ts-check
// prom-client behind the recorder's store interface (what ProbeRecorder wrote before).

/**
 * The SeriesStore interface ProbeRecorder writes to, kept in prom-client metrics: each series a
 * prom-client label set, removed with its exact labels when an update's `keep` refuses it.
 * @param {any} promClient the prom-client module
 * @param {any} registry a prom-client Registry
 */
export function promClientStore(promClient, registry) {
  /** @typedef {{ def: any, metric: any }} Fam */
  /** @typedef {{ fam: Fam, labels: Record<string, string>, run: number, lastMs: number }} Entry */
  /** @type {Map<string, Map<string, Entry>>} */
  const owners = new Map();
  return {
    /** @param {any} def */
    family(def) {
      const base = { name: def.name, help: def.help, labelNames: [...def.labels], registers: [registry] };
      const Type = { gauge: promClient.Gauge, counter: promClient.Counter, histogram: promClient.Histogram }[
        /** @type {'gauge' | 'counter' | 'histogram'} */ (def.type)
      ];
      return { def, metric: new Type(def.buckets ? { ...base, buckets: [...def.buckets] } : base) };
    },
    /** @param {string} key */
    owner(key) {
      let series = owners.get(key);
      if (!series) owners.set(key, (series = new Map()));
      const entries = series;
      let run = 0;
      let nowMs = 0;
      /** @param {Fam} fam @param {string[]} values */
      const touch = (fam, values) => {
        const labels = Object.fromEntries(
          fam.def.labels.map((/** @type {string} */ n, /** @type {number} */ i) => [n, values[i]]),
        );
        entries.set(`${fam.def.name}\0${values.join('\0')}`, { fam, labels, run, lastMs: nowMs });
        return labels;
      };
      const w = {
        /** @param {number} now */
        begin(now) {
          run++;
          nowMs = now;
          return w;
        },
        /** @param {Fam} f @param {string[]} v @param {number} x */
        set: (f, v, x) => (f.metric.set(touch(f, v), x), w),
        /** @param {Fam} f @param {string[]} v */
        inc: (f, v, x = 1) => (Number.isFinite(x) && x >= 0 && f.metric.inc(touch(f, v), x), w),
        /** @param {Fam} f @param {string[]} v @param {number} x */
        observe: (f, v, x) => (Number.isFinite(x) && f.metric.observe(touch(f, v), x), w),
        /** @param {Fam} f @param {string[]} v @param {number} x */
        sample: (f, v, x) =>
          f.def.type === 'gauge' ? w.set(f, v, x) : f.def.type === 'counter' ? w.inc(f, v, x) : w.observe(f, v, x),
        /** @param {(type: string, seen: boolean, lastMs: number) => boolean} keep */
        end(keep = () => true) {
          for (const [key, e] of entries)
            if (!keep(e.fam.def.type, e.run === run, e.lastMs)) {
              e.fam.metric.remove(e.labels);
              entries.delete(key);
            }
        },
      };
      return w;
    },
    /** @param {string} key */
    forget(key) {
      for (const e of owners.get(key)?.values() ?? []) e.fam.metric.remove(e.labels);
      owners.delete(key);
    },
  };
}
