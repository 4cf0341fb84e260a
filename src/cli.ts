import { UsageError } from './errors.js';
import { VERSION } from './version.js';

const HELP = `Usage: vantage COMMAND [options]

Synthetic-monitoring probe agent: checks endpoints on a schedule and exports Prometheus metrics.

Commands:
  run -c FILE        run the agent (serves /metrics, /healthz, /readyz)
  once -c FILE       run every configured check once, print results; exit 0 ok, 1 failed, 2 bad config
  validate -c FILE   check a config; print every problem as FILE:LINE:COL: message
  probe KIND TARGET  run one ad-hoc check (vantage probe tcp example.com:443 --json)
  diagnose TARGET... the report for a support ticket: DNS, ping, path, HTTPS, agent identity, egress IP

Options: --help (on every command), --version`;

type Command = (argv: readonly string[]) => Promise<number>;

/** Loaded on demand: `vantage probe` should not pay for the agent's modules at start-up. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run.js')).runCommand,
  once: async () => (await import('./commands/once.js')).onceCommand,
  validate: async () => (await import('./commands/validate.js')).validateCommand,
  probe: async () => (await import('./commands/probe.js')).probeCommand,
  diagnose: async () => (await import('./commands/diagnose.js')).diagnoseCommand,
};

/** Runs the command line; resolves the exit code (2 for usage errors). */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-V') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const load = COMMANDS[command];
  if (!load) {
    process.stderr.write(`vantage: unknown command "${command}"\n\n${HELP}\n`);
    return 2;
  }
  try {
    return await (
      await load()
    )(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`vantage ${command}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
