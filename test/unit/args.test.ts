import { describe, expect, it } from 'vitest';
import { expectOnly, parseArgs, scalarValue } from '../../src/commands/args.js';
import { UsageError } from '../../src/errors.js';

describe('parseArgs', () => {
  it('reads options, flags, aliases and positionals', () => {
    const args = parseArgs(['tcp', 'h:1', '-c', 'f.yaml', '--json', '--timeout', '2s', '--max-hops=5'], ['json']);
    expect(args.positionals).toEqual(['tcp', 'h:1']);
    expect(Object.fromEntries(args.options)).toEqual({ config: 'f.yaml', timeout: '2s', 'max-hops': '5' });
    expect([...args.flags]).toEqual(['json']);
  });

  it('refuses an option without a value and options a command does not take', () => {
    expect(() => parseArgs(['--timeout'], [])).toThrow(UsageError);
    expect(() => expectOnly(parseArgs(['--colour', 'red'], []), ['config'], [])).toThrow(/unknown option --colour/);
  });

  it.each([
    ['443', 443],
    ['2s', '2s'],
    ['true', true],
    ['all', 'all'],
    ['[oops', '[oops'],
  ])('reads %j as a YAML scalar', (text, value) => {
    expect(scalarValue(text)).toEqual(value);
  });
});
