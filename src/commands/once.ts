import { CheckExecutor } from '../agent/check-executor.js';
import { TraceTrigger } from '../agent/triggered-trace.js';
import type { CheckResult, CheckSpec } from '../checks/check.js';
import { builtinRegistry } from '../checks/registry.js';
import { instantiate } from '../agent/check-jobs.js';
import { systemClock } from '../clock.js';
import { loadConfigFile } from '../config/load.js';
import { createLogger } from '../log.js';
import { pino } from 'pino';
import { systemNet } from '../net/system-net.js';
import { Scheduler } from '../schedule/scheduler.js';
import { expectOnly, logLevel, parseArgs, requireConfig } from './args.js';
import { printConfigError, printHelp, printResults } from './print.js';

export const onceHelp = `Usage: vantage once -c FILE [--json] [--log-level LEVEL]

Runs every configured check once (at most max_concurrent_runs at a time), prints the
results, and exits: 0 all ok, 1 some failed, 2 config or usage error.

  --json              one result record per line (NDJSON) instead of text
  --log-level LEVEL   logs (to stderr): fatal, error, warn, info, debug, trace, silent (default error)`;

export async function onceCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['help', 'json']);
  if (args.flags.has('help')) return printHelp(onceHelp);
  expectOnly(args, ['config', 'log-level'], ['json']);
  const file = requireConfig(args);
  const log = createLogger(logLevel(args, 'error'), pino.destination(2));
  const registry = builtinRegistry();
  let config;
  try {
    config = await loadConfigFile(file, { registry });
  } catch (err) {
    return printConfigError(err);
  }
  const net = systemNet(systemClock);
  net.icmp.configure(config.icmpSocket);
  const trigger = new TraceTrigger(net.icmp, systemClock, config.triggeredTraceroute);
  const executor = new CheckExecutor({ clock: systemClock, log, identity: () => config.agent, registry, trigger });
  const scheduler = new Scheduler(systemClock, config.maxConcurrentRuns);
  const all: CheckResult[] = [];
  const runAll = (specs: readonly CheckSpec[]) =>
    Promise.all(
      specs.map((spec) => {
        const check = instantiate(spec, registry, net);
        return scheduler.runNow({
          name: spec.name,
          timeoutMs: spec.timeoutMs,
          run: async (signal) => {
            const results = await executor.execute(check, signal);
            all.push(...results);
            printResults(results, args.flags.has('json'));
          },
        });
      }),
    );
  try {
    // The adapters' warm-up first, so each check's timeout is its run's alone.
    await net.ready();
    // Kinds that find addresses (dns) first: those are what the other checks of their target probe.
    const first = (spec: CheckSpec): boolean => registry.get(spec.kind)?.needs.includes('addresses-first') ?? false;
    await runAll(config.checks.filter(first));
    await runAll(config.checks.filter((spec) => !first(spec)));
  } finally {
    net.icmp.close();
    log.flush();
  }
  return all.every((r) => r.ok) ? 0 : 1;
}
