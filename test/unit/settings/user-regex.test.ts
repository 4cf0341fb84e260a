import { describe, expect, it } from 'vitest';
import { regexSchema, userRegexProblem } from '../../../src/settings/user-regex.js';

describe('user regular expressions', () => {
  it.each([
    ['a plain pattern', 'ok$'],
    ['classes and quantifiers', '^[a-z]+\\d{2,3}(foo|bar)?$'],
    ['a nested quantifier that backtracks catastrophically', '^(a+)+$'],
  ])('accepts %s', (_what, pattern) => {
    expect(userRegexProblem(pattern)).toBeUndefined();
  });

  it.each([
    ['a syntax error', '(', /is not a valid regular expression/],
    ['a backreference', '(a)\\1', /backreference or lookaround/],
    ['a lookahead', 'foo(?=bar)', /backreference or lookaround/],
    ['a lookbehind', '(?<=a)b', /backreference or lookaround/],
  ])('refuses %s, saying why', (_what, pattern, why) => {
    expect(userRegexProblem(pattern)).toMatch(why);
    const parsed = regexSchema('body_regex').safeParse(pattern);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/^body_regex /);
  });

  // Without the linear-time fallback this match takes about 2^40 steps (days); the test would
  // hang until vitest's timeout. With it, V8 gives up backtracking and answers in linear time.
  it('matches a catastrophic pattern against a hostile input without hanging', () => {
    const pattern = '^(a+)+$';
    expect(regexSchema('body_regex').safeParse(pattern).success).toBe(true);
    expect(new RegExp(pattern).test(`${'a'.repeat(40)}!`)).toBe(false);
    expect(new RegExp(pattern).test('a'.repeat(40))).toBe(true);
  });
});
