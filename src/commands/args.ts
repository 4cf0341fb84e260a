import { UsageError } from '../errors.js';
import { LOG_LEVELS } from '../log.js';
import type { LogLevel } from '../log.js';

/** Parsed command line: `--name value` / `--name=value` options, bare `--flag`s, positionals. */
export interface ParsedArgs {
  positionals: string[];
  /** The last value of each option. */
  options: Map<string, string>;
  /** Every value of each option, for repeatable ones (`--resolver A --resolver B`). */
  all: Map<string, string[]>;
  flags: Set<string>;
  /**
   * Names given without a value (last on the line, or followed by another option). Whether that is
   * an unknown option or a known one missing its value only the command knows: `expectOnly` says which.
   */
  valueless: string[];
}

/**
 * A small parser that, unlike `util.parseArgs`, accepts options it does not know in advance:
 * `vantage probe` takes any setting of the kind as `--setting value`.
 */
export function parseArgs(argv: readonly string[], flagNames: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { positionals: [], options: new Map(), all: new Map(), flags: new Set(), valueless: [] };
  const set = (name: string, value: string): void => {
    out.options.set(name, value);
    out.all.set(name, [...(out.all.get(name) ?? []), value]);
  };
  const aliases: Record<string, string> = { '-c': '--config', '-h': '--help', '-V': '--version' };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i] ?? '';
    const arg = aliases[raw] ?? raw;
    if (!arg.startsWith('--') || arg === '--') {
      out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (eq !== -1) {
      set(name, arg.slice(eq + 1));
    } else if (flagNames.includes(name)) {
      out.flags.add(name);
    } else {
      const value = argv[i + 1];
      if (value === undefined || (value.startsWith('--') && value.length > 2)) {
        out.valueless.push(name);
      } else {
        set(name, value);
        i++;
      }
    }
  }
  return out;
}

/**
 * Refuses options the command does not take, naming them all and listing the ones it knows; then an
 * option given without its value; then any stray argument.
 */
export function expectOnly(
  args: ParsedArgs,
  options: readonly string[],
  flags: readonly string[],
  positionals = 0,
): void {
  const known = [...options, ...flags, 'help'];
  const unknown = [...new Set([...args.options.keys(), ...args.valueless, ...args.flags])].filter(
    (name) => !known.includes(name),
  );
  if (unknown.length > 0) throw new UsageError(unknownOptions(unknown, known));
  expectValues(args);
  const extra = args.positionals.slice(positionals);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra.join(' ')} (see --help)`);
}

/** `unknown option --bogus (known: -c/--config, --json, --help)`. */
export function unknownOptions(unknown: readonly string[], known: readonly string[], what = 'option'): string {
  const name = (n: string): string => (n === 'config' ? '-c/--config' : `--${n}`);
  const plural = unknown.length > 1 ? 's' : '';
  return `unknown ${what}${plural} ${unknown.map((u) => `--${u}`).join(', ')} (known: ${known.map(name).join(', ')})`;
}

/** Refuses an option given without its value (`--timeout` last on the line). */
export function expectValues(args: ParsedArgs): void {
  const [name] = args.valueless;
  if (name !== undefined) throw new UsageError(`option --${name} needs a value`);
}

export function requireConfig(args: ParsedArgs): string {
  const file = args.options.get('config');
  if (!file) throw new UsageError('missing -c FILE (the config to use)');
  return file;
}

export function logLevel(args: ParsedArgs, fallback: LogLevel): LogLevel {
  const level = args.options.get('log-level') ?? fallback;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  }
  return level as LogLevel;
}

/**
 * Command-line values read as YAML scalars, so `443` is a number and `2s` a string, as in the file
 * (keys as given). The YAML parser is loaded only when there is a value to read: it is about 40 ms
 * of a `vantage probe`'s start-up, and most probes pass no setting.
 */
export async function scalarValues(options: Iterable<readonly [string, string]>): Promise<Array<[string, unknown]>> {
  const entries = [...options];
  if (entries.length === 0) return [];
  const { parse } = await import('yaml');
  return entries.map(([name, text]) => {
    try {
      return [name, parse(text) as unknown];
    } catch {
      return [name, text];
    }
  });
}
