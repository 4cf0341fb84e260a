import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Labels every series of an agent carries (the agent's identity, set as default labels). */
const IDENTITY = ['agent', 'region', 'carrier', 'network_type'];

/**
 * Every series name the agent can export, with its labels, from the metrics catalogue's golden
 * file (kept equal to the code by test/unit/metrics.test.ts); histograms as their _bucket (with
 * le), _sum and _count series.
 */
export function catalogue(): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  for (const line of readFileSync(resolve('test/golden/metrics-catalogue.txt'), 'utf8').split('\n')) {
    const [name, type, labelList = '{}'] = line.split(' ');
    if (!name) continue;
    const labels = [...IDENTITY, ...labelList.slice(1, -1).split(',').filter(Boolean)];
    if (type !== 'histogram') series.set(name, new Set(labels));
    else
      for (const suffix of ['_bucket', '_sum', '_count'])
        series.set(name + suffix, new Set(suffix === '_bucket' ? [...labels, 'le'] : labels));
  }
  return series;
}

/** The agent's series names a PromQL expression reads (ours all start with probe_ or vantage_). */
export function promqlMetricNames(expr: string): string[] {
  return identifiers(expr).filter((name) => /^(probe|vantage)_/.test(name) && !name.includes(':'));
}

/** Recorded series an expression reads: by convention their names have colons. */
export function recordedNames(expr: string): string[] {
  return identifiers(expr).filter((name) => name.includes(':'));
}

function identifiers(expr: string): string[] {
  // Label values and annotations are strings: leave them out.
  return [...expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0]);
}

/** Labels named in `by (...)` and `on (...)` clauses. */
export function groupingLabels(expr: string): string[] {
  return [...expr.matchAll(/\b(?:by|on)\s*\(([^)]*)\)/g)].flatMap((m) =>
    m[1]!
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean),
  );
}
