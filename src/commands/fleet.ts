import { builtinRegistry } from '../checks/registry.js';
import { loadConfigFile } from '../config/load.js';
import { UsageError } from '../errors.js';
import { fleetIndex, writeFleetFiles } from '../ranking/fleet-files.js';
import { FLEET_SERIES, fleetLists } from '../ranking/fleet-lists.js';
import type { FleetList, LeftOut, TargetAddresses } from '../ranking/fleet-lists.js';
import { instantQuery, PrometheusApiError } from '../ranking/prometheus-api.js';
import { SET_NAME } from '../ranking/ranking-settings.js';
import { parseDuration } from '../settings/duration.js';
import { expectOnly, parseArgs } from './args.js';
import { printConfigError, printHelp } from './print.js';

export const fleetHelp = `Usage: vantage fleet ranking --prometheus URL [--set NAME] [--min-agents N] [--json]
                             [--out DIR] [--timeout DURATION] [-c CONFIG]

The dynamic server list per region x carrier: each server set's targets, fastest first, by the
median score of the pair's agents, from a Prometheus-compatible API (Prometheus, VictoriaMetrics)
that runs deploy/prometheus/vantage-ranking-rules.yaml. A pair with fewer than --min-agents agents
(default 2) is left out, and said so on stderr.
  --out DIR   one JSON file per region/carrier (REGION--CARRIER.json) plus index.json, each
              written under a temporary name and renamed once all are written
  --json      the lists and the pairs left out as one JSON document on stdout
  --timeout   per query; default 10s
  -c CONFIG   an agent config naming the targets: each endpoint gets its url or host from it
Exit 0; 1 when the API is unreachable, answers garbage or has no ranking series, or a file
cannot be written (no file is left half written); 2 for a usage error or a bad config.`;

const DEFAULT_MIN_AGENTS = 2;
const DEFAULT_TIMEOUT_MS = 10_000;

export async function fleetCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['help', 'json']);
  if (args.flags.has('help') || argv.length === 0) return printHelp(fleetHelp);
  expectOnly(args, ['prometheus', 'set', 'min-agents', 'out', 'timeout', 'config'], ['json'], 1);
  if (args.positionals[0] !== 'ranking') throw new UsageError('the only fleet command is "ranking" (see --help)');
  const base = args.options.get('prometheus');
  if (!base || !/^https?:\/\//.test(base)) throw new UsageError('--prometheus URL (http:// or https://) is required');
  const set = args.options.get('set');
  if (set !== undefined && !SET_NAME.test(set)) throw new UsageError(`--set "${set}" is not a set name`);
  const minAgents = Number(args.options.get('min-agents') ?? DEFAULT_MIN_AGENTS);
  if (!Number.isInteger(minAgents) || minAgents < 1) throw new UsageError('--min-agents must be an integer >= 1');
  const timeout = args.options.get('timeout');
  const timeoutMs = timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(timeout);
  if (timeoutMs === undefined || timeoutMs <= 0) throw new UsageError(`--timeout "${timeout}" is not a duration`);

  let addresses: TargetAddresses = new Map();
  const config = args.options.get('config');
  if (config !== undefined) {
    try {
      const checks = (await loadConfigFile(config, { registry: builtinRegistry() })).checks;
      addresses = new Map(
        checks.map(({ target: t }) => [t.name, t.url !== undefined ? { url: t.url } : { host: t.host }]),
      );
    } catch (err) {
      return printConfigError(err);
    }
  }
  const selector = set === undefined ? '' : `{set="${set}"}`;
  const now = new Date();
  let result: { lists: FleetList[]; leftOut: LeftOut[] };
  try {
    const [agents, medians] = await Promise.all([
      instantQuery(base, `${FLEET_SERIES.agents}${selector}`, timeoutMs),
      instantQuery(base, `${FLEET_SERIES.median}${selector}`, timeoutMs),
    ]);
    if (agents.length === 0) {
      process.stderr.write(
        `vantage fleet ranking: ${base} has no ${FLEET_SERIES.agents}${selector} series: are agents with ` +
          'server_sets sending metrics there, and is deploy/prometheus/vantage-ranking-rules.yaml loaded?\n',
      );
      return 1;
    }
    result = fleetLists(agents, medians, minAgents, now, addresses);
  } catch (err) {
    if (!(err instanceof PrometheusApiError)) throw err;
    process.stderr.write(`vantage fleet ranking: ${err.message}\n`);
    return 1;
  }
  const { lists, leftOut } = result;
  const index = fleetIndex(lists, leftOut, minAgents, now);
  const out = args.options.get('out');
  if (out !== undefined) {
    try {
      await writeFleetFiles(out, lists, index);
    } catch (err) {
      process.stderr.write(`vantage fleet ranking: cannot write ${out}: ${(err as Error).message}\n`);
      return 1;
    }
  }
  for (const l of leftOut)
    process.stderr.write(
      `vantage fleet ranking: left out ${l.region || '-'} / ${l.carrier || '-'} set ${l.set}: ` +
        `${l.agents} agent${l.agents === 1 ? '' : 's'}, fewer than --min-agents ${minAgents}\n`,
    );
  if (args.flags.has('json')) process.stdout.write(`${JSON.stringify({ ...index, lists })}\n`);
  else process.stdout.write(text(lists));
  return 0;
}

function text(lists: readonly FleetList[]): string {
  return lists
    .map((l) => {
      const sets = l.sets.map(
        (s) =>
          `  ${s.set} (${s.agents} agent${s.agents === 1 ? '' : 's'}): ` +
          s.endpoints.map((e) => `${e.rank}. ${e.target} ${e.scoreMs.toFixed(1)} ms`).join('  '),
      );
      return `${l.region || '-'} / ${l.carrier || '-'}\n${sets.join('\n')}\n`;
    })
    .join('');
}
