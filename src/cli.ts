import { inspect } from 'node:util';
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
  quality replay FILE  feed recorded observations through the network-quality model (tune thresholds)
  fleet ranking --prometheus URL  the fastest endpoint per region x carrier, from the fleet's metrics

Options: --help (on every command), --version`;

type Command = (argv: readonly string[]) => Promise<number>;

/** Loaded on demand: `vantage probe` should not pay for the agent's modules at start-up. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run.js')).runCommand,
  once: async () => (await import('./commands/once.js')).onceCommand,
  validate: async () => (await import('./commands/validate.js')).validateCommand,
  probe: async () => (await import('./commands/probe.js')).probeCommand,
  diagnose: async () => (await import('./commands/diagnose.js')).diagnoseCommand,
  quality: async () => (await import('./commands/quality.js')).qualityCommand,
  fleet: async () => (await import('./commands/fleet.js')).fleetCommand,
};

/** Whether `name` is one of the commands (the CLI's entry keeps a code cache per command). */
export function isCommand(name: string): boolean {
  return Object.hasOwn(COMMANDS, name);
}

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

/** The exit code of a command whose stdout reader went away, as for a tool killed by SIGPIPE (128 + 13). */
export const EXIT_STDOUT_CLOSED = 141;

/**
 * The process's entry (bin/vantage.cts): runs the command, then exits once what it printed has
 * been written. On a pipe, stdout and stderr are asynchronous: `process.exit()` with writes still
 * queued (a reader slower than the command, beyond the pipe's 64 KiB) drops them.
 */
export async function runCli(argv: readonly string[]): Promise<void> {
  guardStdio();
  let code: number;
  try {
    code = await main(argv);
  } catch (err) {
    process.stderr.write(`${inspect(err)}\n`);
    code = 1;
  }
  process.exitCode = code;
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  // A lookup nobody waits for any more can keep the event loop alive for seconds (getaddrinfo
  // cannot be cancelled): once the command is done and its output written, do not let it hold the exit.
  setTimeout(() => process.exit(), 500).unref();
}

/**
 * A reader that went away (`vantage once --json | head -1`) ends the command quietly, with the code a
 * SIGPIPE'd tool has: Node ignores SIGPIPE, and the EPIPE would otherwise crash with a stack. Nothing
 * can be said about a broken stderr, so its errors are ignored.
 */
function guardStdio(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') process.stderr.write(`vantage: cannot write to stdout: ${err.message}\n`);
    process.exit(err.code === 'EPIPE' ? EXIT_STDOUT_CLOSED : 1);
  });
  process.stderr.on('error', () => undefined);
}

/** Resolves once everything written to `stream` so far has been handed to the OS (or failed). */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableEnded || stream.writableLength === 0) resolve();
    else stream.write('', () => resolve());
  });
}
