import { readFile } from 'node:fs/promises';
import { builtinRegistry } from '../checks/registry.js';
import { loadConfigFile } from '../config/load.js';
import { UsageError } from '../errors.js';
import type { Observation } from '../quality/quality-model.js';
import { DEFAULT_QUALITY, qualitySchema, qualitySettings } from '../quality/quality-settings.js';
import type { QualitySettings } from '../quality/quality-settings.js';
import { parseRecord, RecordError } from '../quality/record-line.js';
import { replay } from '../quality/replay.js';
import type { ReplayLine } from '../quality/replay.js';
import { expectValues, parseArgs, scalarValues, unknownOptions } from './args.js';
import { printConfigError, printHelp } from './print.js';

/** The settings `--SETTING VALUE` may override: the block's scalars. */
const SETTINGS = Object.keys(qualitySchema.shape).filter((k) => k !== 'targets' && k !== 'record_file');

export const qualityHelp = `Usage: vantage quality replay FILE [-c CONFIG] [--SETTING VALUE ...] [--json]

Feeds recorded observations through the network-quality model and prints, after each line, the
target's class and figures and the agent's class: how to tune thresholds against a recorded day.
FILE holds JSON lines {"t": <unix seconds>, "target": "api", "ok": true, "httpRttMs": 120.5,
"transportRttMs": 35.2} (either RTT may be absent; "ip" and "noRoute" too), as quality.record_file
writes them.
Settings come from the config's quality: block (-c), then from options named as in the YAML:
  ${SETTINGS.map((s) => `--${s.replaceAll('_', '-')}`).join(', ')}
e.g. vantage quality replay day.jsonl -c vantage.yaml --http-rtt 1500ms --decay 0.3 --json
Exit 0; 2 for a bad line (named), config or option, before anything is printed.`;

export async function qualityCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['help', 'json']);
  if (args.flags.has('help')) return printHelp(qualityHelp);
  const [sub, file, ...extra] = args.positionals;
  if (sub !== 'replay' || file === undefined)
    throw new UsageError('usage: vantage quality replay FILE [-c CONFIG] [--SETTING VALUE ...] [--json]');
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra.join(' ')}`);
  const known = [...SETTINGS.map((s) => s.replaceAll('_', '-')), 'config', 'json', 'help'];
  const unknown = [...new Set([...args.options.keys(), ...args.valueless, ...args.flags])].filter(
    (name) => !known.includes(name.replaceAll('_', '-')),
  );
  if (unknown.length > 0) throw new UsageError(unknownOptions(unknown, known, 'setting'));
  expectValues(args);
  let base: QualitySettings = DEFAULT_QUALITY;
  const config = args.options.get('config');
  if (config !== undefined) {
    try {
      base = (await loadConfigFile(config, { registry: builtinRegistry() })).quality;
    } catch (err) {
      return printConfigError(err);
    }
  }
  const settings = await overrides(base, args.options);
  const observations = await readObservations(file);
  const json = args.flags.has('json');
  if (!json) process.stdout.write(`${HEADER}\n`);
  for (const line of replay(observations, settings))
    process.stdout.write(`${json ? JSON.stringify(line) : textLine(line)}\n`);
  return 0;
}

/** `--http-rtt 1500ms` and the like over the config's settings, validated as in the YAML. */
async function overrides(base: QualitySettings, options: ReadonlyMap<string, string>): Promise<QualitySettings> {
  const raw: Record<string, unknown> = {};
  for (const [name, value] of await scalarValues([...options].filter(([name]) => name !== 'config')))
    raw[name.replaceAll('-', '_')] = value;
  const parsed = qualitySchema.safeParse(raw);
  if (!parsed.success)
    throw new UsageError(
      parsed.error.issues.map((i) => `--${i.path.map(String).join('.').replaceAll('_', '-')}: ${i.message}`).join('\n'),
    );
  return qualitySettings(parsed.data, base);
}

/** Every line read and checked before the first is replayed: a bad line prints nothing but its error. */
async function readObservations(file: string): Promise<Observation[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const out: Observation[] = [];
  let previous: number | undefined;
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    try {
      const o = parseRecord(line, i + 1, previous);
      previous = o.t / 1000;
      out.push(o);
    } catch (err) {
      if (err instanceof RecordError) throw new UsageError(`${file}:${err.line}: ${err.reason}`);
      throw err;
    }
  }
  return out;
}

const COLUMNS = ['t', 'target', 'class', 'http_ms', 'transport_ms', 'success', 'trend', 'agent'] as const;
const WIDTHS = [14, 16, 8, 9, 12, 8, 7, 7];
const HEADER = COLUMNS.map((c, i) => c.padEnd(WIDTHS[i] ?? 0))
  .join(' ')
  .trimEnd();

function textLine(l: ReplayLine): string {
  const n = (v: number | null, digits: number): string => (v === null ? '-' : v.toFixed(digits));
  const cells = [
    l.t.toFixed(3),
    l.target,
    l.class,
    n(l.httpRttMs, 1),
    n(l.transportRttMs, 1),
    n(l.successRate, 3),
    n(l.trend, 3),
    l.agentClass,
  ];
  return cells
    .map((c, i) => c.padEnd(WIDTHS[i] ?? 0))
    .join(' ')
    .trimEnd();
}
