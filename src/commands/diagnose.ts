import { setMaxListeners } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { pino } from 'pino';
import { builtinRegistry } from '../checks/registry.js';
import { systemClock } from '../clock.js';
import { hostIdentity } from '../config/agent-config.js';
import { loadConfigFile } from '../config/load.js';
import { parseDuration } from '../settings/duration.js';
import { DEFAULT_STEP_TIMEOUT_MS, diagnose } from '../agent/diagnose-run.js';
import { renderDiagnosis, renderDiagnosisJson } from '../diagnose/render.js';
import { diagnosisDocument } from '../pages/diagnosis-html.js';
import { RunCancelled, UsageError } from '../errors.js';
import { createLogger } from '../log.js';
import { systemNet } from '../net/system-net.js';
import { expectOnly, logLevel, parseArgs } from './args.js';
import { printConfigError, printHelp } from './print.js';

export const diagnoseHelp = `Usage: vantage diagnose TARGET... [--json] [--html FILE] [--resolver ADDR]... [--count N]
       [--traceroute auto|always|never] [--timeout DURATION] [--egress-url URL]... [-c FILE]

The report a support engineer pastes into a ticket. TARGETs are names, IPs or URLs. For each:
DNS through the system resolver and every --resolver (hijack checks on), ping to every IP, a
traceroute of silent IPs (auto: only when the name's first address is silent, three at most),
HTTPS phases for URLs; then who and where this agent is (identity from -c FILE, egress IP from
--egress-url echo services, local interface addresses) and the exact time. A one-line verdict per
target comes first. Progress goes to stderr; Ctrl-C prints what is known so far.

  --json              the same report as one JSON document
  --html FILE         also write it as one self-contained HTML file (pictures inline) to attach to a ticket
  --resolver ADDR     another resolver to ask (repeatable; IP[:PORT], tls://, https://...)
  --count N           echo requests per IP (default 5)
  --traceroute MODE   auto (default), always (trace the first IP), never
  --timeout D         deadline of each step (default 10s)
  --egress-url URL    a service answering with the caller's IP (repeatable), e.g. https://checkip.amazonaws.com
  --ca-file FILE      extra CAs (PEM) for HTTPS targets
  -c FILE             take the agent identity (region, carrier, network type) from this config`;

export async function diagnoseCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['help', 'json']);
  if (args.flags.has('help')) return printHelp(diagnoseHelp);
  expectOnly(
    args,
    ['resolver', 'count', 'traceroute', 'timeout', 'egress-url', 'ca-file', 'config', 'log-level', 'html'],
    ['json'],
    Number.POSITIVE_INFINITY,
  );
  const targets = args.positionals;
  if (targets.length === 0) throw new UsageError('usage: vantage diagnose TARGET... (see --help)');
  const count = Number(args.options.get('count') ?? '5');
  if (!Number.isInteger(count) || count < 1 || count > 100) throw new UsageError('--count must be 1..100');
  const traceroute = args.options.get('traceroute') ?? 'auto';
  if (traceroute !== 'auto' && traceroute !== 'always' && traceroute !== 'never')
    throw new UsageError('--traceroute must be auto, always or never');
  const timeout = args.options.get('timeout');
  const timeoutMs = timeout === undefined ? DEFAULT_STEP_TIMEOUT_MS : parseDuration(timeout);
  if (timeoutMs === undefined || timeoutMs > 300_000)
    throw new UsageError('--timeout must be a duration like 10s, at most 5m');
  const registry = builtinRegistry();
  let identity = hostIdentity();
  const configFile = args.options.get('config');
  if (configFile) {
    try {
      identity = (await loadConfigFile(configFile, { registry })).agent;
    } catch (err) {
      return printConfigError(err);
    }
  }
  const log = createLogger(logLevel(args, 'error'), pino.destination(2));
  const net = systemNet(systemClock);
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const interrupt = (): void => controller.abort(new RunCancelled('interrupted'));
  process.once('SIGINT', interrupt);
  const progress = process.stderr.isTTY
    ? (step: string) => process.stderr.write(`\r\x1b[K${step}`)
    : (step: string) => process.stderr.write(`${step}\n`);
  try {
    const report = await diagnose(
      targets,
      {
        resolvers: args.all.get('resolver') ?? [],
        count,
        traceroute,
        timeoutMs,
        egressUrls: args.all.get('egress-url') ?? [],
        ...(args.options.get('ca-file') ? { caFile: args.options.get('ca-file')! } : {}),
        signal: controller.signal,
        onProgress: progress,
      },
      { net, clock: systemClock, log, identity },
    );
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    process.stdout.write(args.flags.has('json') ? renderDiagnosisJson(report) : renderDiagnosis(report));
    const htmlFile = args.options.get('html');
    if (htmlFile) await writeFile(htmlFile, diagnosisDocument(report));
    if (controller.signal.aborted) return 130;
    const allOk = report.targets.every((t) => [...t.dns, ...t.ping, ...t.https].every((r) => r.ok));
    return allOk ? 0 : 1;
  } finally {
    process.off('SIGINT', interrupt);
    net.icmp.close();
    log.flush();
  }
}
