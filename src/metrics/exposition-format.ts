import type { MetricDef } from './catalogue.js';

/**
 * The pieces of the Prometheus text format and OpenMetrics that the series store writes itself,
 * written exactly as prom-client 15 writes them, so one scrape can hold both renders. Sample lines
 * are the same in both formats; OpenMetrics differs in its headers only (a counter family `x_total`
 * is headed `# HELP x` / `# TYPE x counter`), has no blank line between families and ends in `# EOF`.
 */

const LABEL_ESCAPES = /[\\"\n]/;

/** A label value quoted as both formats want it: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  if (!LABEL_ESCAPES.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** HELP text: backslash and newline escaped (double quotes stay, as prom-client leaves them). */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value: NaN is written `Nan` (prom-client's spelling), infinities `+Inf` and `-Inf`. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return `${value}`;
}

/** `name="value",...` for the names in order; `values` holds one value per name. A flat string (join). */
export function labelPairs(names: readonly string[], values: readonly string[]): string {
  const pairs = new Array<string>(names.length);
  for (let i = 0; i < names.length; i++) pairs[i] = `${names[i]}="${escapeLabelValue(values[i] ?? '')}"`;
  return pairs.join(',');
}

const COMMA = 0x2c;
const EQUALS = 0x3d;
const QUOTE = 0x22;

/**
 * Whether `rendered` is what labelPairs(names, values) returns, found without making that string:
 * a run sets the same series with the same labels as the run before, and keeping the last string
 * when it matches spares one new string per series per run.
 */
export function pairsMatch(rendered: string, names: readonly string[], values: readonly string[]): boolean {
  let at = 0;
  for (let i = 0; i < names.length; i++) {
    if (i > 0 && rendered.charCodeAt(at++) !== COMMA) return false;
    const name = names[i] ?? '';
    if (!rendered.startsWith(name, at)) return false;
    at += name.length;
    if (rendered.charCodeAt(at) !== EQUALS || rendered.charCodeAt(at + 1) !== QUOTE) return false;
    at += 2;
    const value = escapeLabelValue(values[i] ?? '');
    if (!rendered.startsWith(value, at)) return false;
    at += value.length;
    if (rendered.charCodeAt(at++) !== QUOTE) return false;
  }
  return at === rendered.length;
}

/** A family's `# HELP` and `# TYPE` lines in either format. */
export function familyHeader(def: MetricDef, openMetrics: boolean): string {
  const name = openMetrics && def.type === 'counter' ? def.name.replace(/_total$/, '') : def.name;
  return `# HELP ${name} ${escapeHelp(def.help)}\n# TYPE ${name} ${def.type}\n`;
}
