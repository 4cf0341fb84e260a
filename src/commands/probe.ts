import { pino } from 'pino';
import { CheckExecutor } from '../agent/check-executor.js';
import { TraceTrigger } from '../agent/triggered-trace.js';
import type { CheckKind, CheckSpec } from '../checks/check.js';
import { builtinRegistry } from '../checks/registry.js';
import { systemClock } from '../clock.js';
import { DEFAULT_TIMEOUT_MS, DEFAULT_TRIGGERED_TRACEROUTE, hostIdentity } from '../config/agent-config.js';
import { RunCancelled, UsageError } from '../errors.js';
import { createLogger } from '../log.js';
import { systemNet } from '../net/system-net.js';
import { runDeadline } from '../schedule/run-deadline.js';
import { durationSchema } from '../settings/setting-schemas.js';
import type { ParsedArgs } from './args.js';
import { expectValues, logLevel, parseArgs, scalarValues, unknownOptions } from './args.js';
import { printHelp, printResults } from './print.js';

export function probeHelp(): string {
  const kinds = builtinRegistry()
    .kinds()
    .map(
      (k) =>
        `  ${k.kind.padEnd(12)}${k.summary}; settings: ${['timeout', ...Object.keys(k.settings.shape)].join(', ')}`,
    )
    .join('\n');
  return `Usage: vantage probe KIND TARGET [--json] [--SETTING VALUE ...]

Runs one ad-hoc check and prints its results; exit 0 ok, 1 failed, 2 usage error.
Settings are named as in the YAML (snake_case or kebab-case), e.g.
  vantage probe tcp example.com:443 --timeout 2s --json

Kinds:
${kinds}`;
}

const RESERVED = new Set(['json', 'help', 'log-level']);

export async function probeCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['help', 'json']);
  if (args.flags.has('help')) return printHelp(probeHelp());
  const [kindName, targetArg, ...extra] = args.positionals;
  if (!kindName || !targetArg)
    throw new UsageError('usage: vantage probe KIND TARGET [--SETTING VALUE ...] (see --help)');
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra.join(' ')}`);
  const registry = builtinRegistry();
  const kind = registry.get(kindName);
  if (!kind) throw new UsageError(`unknown kind "${kindName}" (known: ${registry.names().join(', ')})`);
  expectSettings(kind, args);
  const values = await scalarValues([...args.options].filter(([name]) => !RESERVED.has(name)));
  const spec = probeSpec(kind, targetArg, values);
  const log = createLogger(logLevel(args, 'error'), pino.destination(2));
  const net = systemNet(systemClock);
  const check = kind.create(spec, net);
  const executor = new CheckExecutor({
    clock: systemClock,
    log,
    registry,
    trigger: new TraceTrigger(net.icmp, systemClock, DEFAULT_TRIGGERED_TRACEROUTE),
    identity: hostIdentity,
  });
  // The adapters' warm-up first, so the run's --timeout is the probe's alone.
  await net.ready([kind.kind], [spec.target.host]);
  // Ctrl-C cancels the run; what was measured so far (a partial path) is still printed.
  const { controller, release } = runDeadline(systemClock, spec.timeoutMs);
  const interrupt = (): void => controller.abort(new RunCancelled('interrupted'));
  process.once('SIGINT', interrupt);
  const bar = process.stderr.isTTY ? progressBar() : undefined;
  try {
    const results = await executor.execute(check, controller.signal, bar?.update);
    bar?.clear();
    printResults(results, args.flags.has('json'));
    if (controller.signal.reason instanceof RunCancelled) return 130;
    return results.every((r) => r.ok) ? 0 : 1;
  } finally {
    release();
    process.off('SIGINT', interrupt);
    net.icmp.close();
    log.flush();
  }
}

/** A one-line progress bar on a terminal's stderr: `[#####.........] 5/30`. */
function progressBar(): { update: (done: number, total: number) => void; clear: () => void } {
  const width = 30;
  return {
    update: (done, total) => {
      const filled = total > 0 ? Math.round((done / total) * width) : 0;
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
    },
    clear: () => process.stderr.write(`\r${' '.repeat(width + 12)}\r`),
  };
}

/** Refuses a name that is neither a setting of the kind nor an option of probe's, listing those it knows. */
function expectSettings(kind: CheckKind, args: ParsedArgs): void {
  const settings = ['timeout', ...Object.keys(kind.settings.shape)].map((s) => s.replaceAll('_', '-'));
  const known = [...settings, 'json', 'log-level', 'help'];
  const unknown = [...new Set([...args.options.keys(), ...args.valueless, ...args.flags])].filter(
    (name) => !known.includes(name.replaceAll('_', '-')),
  );
  if (unknown.length > 0) throw new UsageError(unknownOptions(unknown, known, 'setting'));
  expectValues(args);
}

/** A check spec from the command line, validated by the same schemas as the YAML. */
function probeSpec(kind: CheckKind, targetArg: string, values: ReadonlyArray<[string, unknown]>): CheckSpec {
  const target = kind.parseProbeTarget(targetArg);
  const raw: Record<string, unknown> = { ...target.settings };
  for (const [name, value] of values) raw[name.replaceAll('-', '_')] = value;
  const { timeout: rawTimeout, ...rawSettings } = raw;
  // The YAML's `timeout` (config/schema.ts), without loading the whole config schema.
  const timeout = durationSchema.optional().safeParse(rawTimeout);
  const settings = kind.parseSettings(rawSettings);
  const issues = [
    ...(timeout.success ? [] : timeout.error.issues.map((i) => ({ ...i, path: ['timeout', ...i.path] }))),
    ...(settings.success ? [] : settings.error.issues),
  ];
  if (!timeout.success || !settings.success) {
    // Named as they were typed: --ca-file, not the YAML's ca_file.
    const option = (path: ReadonlyArray<PropertyKey>): string => `--${path.map(String).join('.').replaceAll('_', '-')}`;
    const problems = issues.map((i) =>
      i.code === 'unrecognized_keys'
        ? `unknown setting ${i.keys.map((k) => option([k])).join(', ')}`
        : `${option(i.path)}: ${i.message}`,
    );
    throw new UsageError(problems.join('\n'));
  }
  const spec: CheckSpec = {
    name: `probe-${kind.kind}`,
    kind: kind.kind,
    target: { name: targetArg, host: target.host, ...(target.url ? { url: target.url } : {}), group: '', labels: {} },
    schedule: { type: 'interval', intervalMs: Number.MAX_SAFE_INTEGER },
    timeoutMs: timeout.data ?? DEFAULT_TIMEOUT_MS,
    settings: settings.data,
  };
  const problems = kind.checkSettings(spec.target, settings.data, spec.timeoutMs);
  if (problems.length > 0) throw new UsageError(problems.map((p) => p.message).join('\n'));
  return spec;
}
