import { describe, expect, it } from 'vitest';
import { expectOnly, parseArgs, scalarValues } from '../../src/commands/args.js';
import { UsageError } from '../../src/errors.js';

describe('parseArgs', () => {
  it('reads options, flags, aliases and positionals', () => {
    const args = parseArgs(['tcp', 'h:1', '-c', 'f.yaml', '--json', '--timeout', '2s', '--max-hops=5'], ['json']);
    expect(args.positionals).toEqual(['tcp', 'h:1']);
    expect(Object.fromEntries(args.options)).toEqual({ config: 'f.yaml', timeout: '2s', 'max-hops': '5' });
    expect([...args.flags]).toEqual(['json']);
  });

  it('refuses an option without a value and options a command does not take', () => {
    expect(() => expectOnly(parseArgs(['--timeout'], []), ['timeout'], [])).toThrow(UsageError);
    expect(() => expectOnly(parseArgs(['--timeout'], []), ['timeout'], [])).toThrow('option --timeout needs a value');
    expect(() => expectOnly(parseArgs(['--colour', 'red'], []), ['config'], [])).toThrow(/unknown option --colour/);
  });

  // Issue 12: an unknown option last on the line (or before another option) was "needs a value".
  it.each([
    [['-c', 'f.yaml', '--bogus'], 'unknown option --bogus (known: -c/--config, --log-level, --json, --help)'],
    [['--bogus', '--json', '-c', 'f.yaml'], 'unknown option --bogus (known: -c/--config, --log-level, --json, --help)'],
    [['--bogus', '--colour=red', '-c', 'f.yaml'], 'unknown options --colour, --bogus (known: -c/--config'],
    [['--json', '-c'], 'option --config needs a value'],
  ])('%j: names an unknown option and lists the known ones, or the option missing its value', (argv, message) => {
    expect(() => expectOnly(parseArgs(argv, ['help', 'json']), ['config', 'log-level'], ['json'])).toThrow(message);
  });

  it.each([
    ['443', 443],
    ['2s', '2s'],
    ['true', true],
    ['all', 'all'],
    ['[oops', '[oops'],
  ])('reads %j as a YAML scalar', async (text, value) => {
    expect(await scalarValues([['port', text]])).toEqual([['port', value]]);
  });
});
