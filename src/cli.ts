import { onceCommand } from './commands/once.js';
import { probeCommand } from './commands/probe.js';
import { runCommand } from './commands/run.js';
import { help, validateCommand } from './commands/validate.js';
import { UsageError } from './errors.js';
import { VERSION } from './version.js';

const HELP = `Usage: vantage COMMAND [options]

Synthetic-monitoring probe agent: checks endpoints on a schedule and exports Prometheus metrics.

Commands:
  run -c FILE        run the agent (serves /metrics, /healthz, /readyz)
  once -c FILE       run every configured check once, print results; exit 0 ok, 1 failed, 2 bad config
  validate -c FILE   check a config; print every problem as FILE:LINE:COL: message
  probe KIND TARGET  run one ad-hoc check (vantage probe tcp example.com:443 --json)

Options: --help (on every command), --version`;

const COMMANDS: Record<string, (argv: readonly string[]) => Promise<number>> = {
  run: runCommand,
  once: onceCommand,
  validate: validateCommand,
  probe: probeCommand,
};

/** Runs the command line; resolves the exit code (2 for usage errors). */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-V') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') return help(HELP);
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`vantage: unknown command "${command}"\n\n${HELP}\n`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`vantage ${command}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
