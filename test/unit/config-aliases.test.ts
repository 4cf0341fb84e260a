import { describe, expect, it } from 'vitest';
import { configProblems, loadConfigText } from '../helpers/config-text.js';

// Issue 12, defect 8: YAML aliases are expanded with a bound, and what cannot be expanded is a
// located config problem, never an uncaught ReferenceError.

const problems = configProblems;

/** Nine levels of nine aliases: a few hundred bytes that expand to 9^9 values. */
function aliasBomb(): string {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (const [i, name] of [...'bcdefghi'].entries()) {
    lines.push(`${name}: &${name} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`);
  }
  return `${lines.join('\n')}\n`;
}

describe('YAML aliases', () => {
  it('an alias bomb is a located problem (the alias where the expansion passes the bound), not a crash', () => {
    expect(problems(aliasBomb())).toEqual([
      'cfg.yaml:7:8: YAML: aliases expand this file past 1,000,000 values here (*f; an alias bomb?): write the ' +
        'repeated parts out, or alias fewer and smaller pieces',
    ]);
  });

  it('many targets may share one anchored checks list (the yaml package alone refused 101 uses)', () => {
    const targets = Array.from({ length: 150 }, (_, i) =>
      i === 0
        ? '  - {name: t0, host: 127.0.0.1, checks: &common [{kind: tcp, port: 443}, {kind: icmp}]}'
        : `  - {name: t${i}, host: 127.0.0.1, checks: *common}`,
    );
    const config = loadConfigText(`targets:\n${targets.join('\n')}\n`);
    expect(config.checks).toHaveLength(300);
    expect(config.checks[299]).toMatchObject({ name: 't149-icmp', target: { name: 't149' } });
  });

  it.each([
    [
      'an alias with no anchor',
      'targets: *nothing\n',
      'cfg.yaml:1:10: YAML: alias *nothing names no anchor &nothing before it',
    ],
    [
      'an alias inside the node it names',
      'targets: &t [{name: x, host: h, checks: *t}]\n',
      'cfg.yaml:1:41: YAML: alias *t is inside the node it names (a config cannot contain itself): remove it',
    ],
  ])('%s is a located problem', (_name, text, expected) => {
    expect(problems(text)).toEqual([expected]);
  });
});
