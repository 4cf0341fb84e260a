import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Every series name the agent can export, from the metrics catalogue's golden file (kept equal to
 * the code by test/unit/metrics.test.ts): histograms as their _bucket, _sum and _count series.
 */
export function catalogueNames(): Set<string> {
  const names = new Set<string>();
  for (const line of readFileSync(resolve('test/golden/metrics-catalogue.txt'), 'utf8').split('\n')) {
    const [name, type] = line.split(' ');
    if (!name) continue;
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    else names.add(name);
  }
  return names;
}

/** The agent's series names a PromQL expression reads (ours all start with probe_ or vantage_). */
export function promqlMetricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(?:probe|vantage)_[a-z0-9_]+\b/g)].map((m) => m[0]);
}
