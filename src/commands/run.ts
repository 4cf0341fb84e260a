import { Agent } from '../agent/agent.js';
import { loadHeapPressure } from '../agent/heap-trim.js';
import { callingThreadNice } from '../agent/probe-thread-priority.js';
import { builtinRegistry } from '../checks/registry.js';
import { systemClock } from '../clock.js';
import { parseListen } from '../config/agent-config.js';
import { ConfigError } from '../config/diagnostics.js';
import { parseDuration } from '../settings/duration.js';
import { UsageError } from '../errors.js';
import { createLogger } from '../log.js';
import { systemNet } from '../net/system-net.js';
import { expectOnly, logLevel, parseArgs, requireConfig } from './args.js';
import { printConfigError, printHelp } from './print.js';

export const runHelp = `Usage: vantage run -c FILE [--listen HOST:PORT] [--log-level LEVEL]
                   [--shutdown-timeout DURATION] [--no-watch] [--web.config.file FILE]

Runs the agent: schedules every configured check and serves /metrics (Prometheus text,
or OpenMetrics when asked), /healthz and /readyz on HOST:PORT (default: the config's
listen:, else 0.0.0.0:9477). Logs are JSON lines on stdout.

SIGHUP, or a change to FILE, reloads the config; a bad new config is rejected and the
running one kept. SIGTERM or SIGINT stop scheduling, cancel runs in flight within
--shutdown-timeout (default 10s) and exit 0.

  --listen HOST:PORT           overrides the config's listen:
  --log-level LEVEL            fatal, error, warn, info (default), debug, trace, silent
  --shutdown-timeout DURATION  how long to wait for runs in flight on SIGTERM (default 10s)
  --no-watch                   reload on SIGHUP only, not on file changes
  --web.config.file FILE       TLS, client certificates, basic auth and headers in exporter-toolkit's
                               format (overrides the config's web.config_file); reloaded like the config`;

export async function runCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['help', 'no-watch']);
  if (args.flags.has('help')) return printHelp(runHelp);
  expectOnly(args, ['config', 'listen', 'log-level', 'shutdown-timeout', 'web.config.file'], ['no-watch']);
  const configFile = requireConfig(args);
  const listenText = args.options.get('listen');
  const listen = listenText === undefined ? undefined : parseListen(listenText);
  if (listenText !== undefined && !listen) throw new UsageError(`--listen "${listenText}" is not HOST:PORT`);
  const shutdownMs = parseDuration(args.options.get('shutdown-timeout') ?? '10s');
  if (shutdownMs === undefined || shutdownMs > 600_000)
    throw new UsageError('--shutdown-timeout must be a duration like 10s, at most 10m');
  const webConfigFile = args.options.get('web.config.file');
  const log = createLogger(logLevel(args, 'info'));
  const agent = new Agent({
    configFile,
    ...(listen ? { listen } : {}),
    ...(webConfigFile ? { webConfigFile } : {}),
    registry: builtinRegistry(),
    net: systemNet(systemClock, { httpsOnWorker: true }),
    clock: systemClock,
    log,
    watch: !args.flags.has('no-watch'),
    threadNice: callingThreadNice,
    heapPressure: loadHeapPressure(),
  });
  // Listen for stop signals before starting, so one that arrives during start-up still ends in a
  // clean shutdown instead of killing the process half-started.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  try {
    await agent.start();
  } catch (err) {
    if (err instanceof ConfigError) return printConfigError(err);
    log.fatal({ err }, 'agent could not start');
    log.flush();
    await agent.stop(0);
    return 1;
  }
  const onHup = (): void => void agent.reload();
  process.on('SIGHUP', onHup);
  const signal = await stopSignal;
  process.off('SIGHUP', onHup);
  log.info({ signal, deadlineMs: shutdownMs }, 'shutting down');
  const clean = await agent.stop(shutdownMs);
  log.info({ clean }, 'stopped');
  log.flush();
  return 0;
}
