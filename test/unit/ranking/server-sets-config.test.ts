import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../src/checks/registry.js';
import { ConfigError } from '../../../src/config/diagnostics.js';
import { parseConfig } from '../../../src/config/load.js';

const registry = builtinRegistry();
const load = (text: string) => parseConfig('cfg.yaml', text, { registry, env: {}, hostname: 'host-1' });

/** The config's problems, one `file:line:col: message` a line, in reading order (ConfigError's message). */
const problems = (text: string): string => {
  const err = ((): unknown => {
    try {
      return load(text);
    } catch (e) {
      return e;
    }
  })();
  return err instanceof ConfigError ? err.message : 'accepted';
};

// The sets start on line 13 of every config below.
const targets = `
targets:
  - name: us
    url: https://127.0.0.1:8443/
    checks: [{ kind: https }, { kind: icmp }]
  - name: eu
    url: https://127.0.0.2:8443/
    checks: [{ kind: https }]
  - name: ap
    host: 127.0.0.3
    checks: [{ kind: icmp }]
server_sets:
`;

describe('server_sets:', () => {
  it('defaults: score http, margin 0.1, hold 2m; none configured: no sets', () => {
    expect(load(targets.replace('server_sets:\n', '')).serverSets).toEqual([]);
    expect(load(`${targets}  api: { targets: [us, eu] }\n`).serverSets).toEqual([
      { name: 'api', targets: ['us', 'eu'], mode: 'http', margin: 0.1, holdMs: 120_000 },
    ]);
  });

  it('reads every setting', () => {
    const config = load(`${targets}  edge: { targets: [ap, us], score: icmp, margin: 0.2, hold: 30s }\n`);
    expect(config.serverSets).toEqual([
      { name: 'edge', targets: ['ap', 'us'], mode: 'icmp', margin: 0.2, holdMs: 30_000 },
    ]);
  });

  it.each([
    [
      'an unknown target',
      '  api: { targets: [us, nowhere] }',
      'cfg.yaml:13:24: server_sets.api.targets[1]: no target is named "nowhere"',
    ],
    [
      'an empty set',
      '  api: { targets: [] }',
      'cfg.yaml:13:19: server_sets.api.targets: a server set needs at least one target',
    ],
    [
      'a target twice',
      '  api: { targets: [us, us] }',
      'cfg.yaml:13:24: server_sets.api.targets[1]: "us" is in this set twice',
    ],
    [
      'a target without the check the score reads',
      '  api: { targets: [us, ap] }',
      'cfg.yaml:13:24: server_sets.api.targets[1]: "ap" has no https check, which score http reads',
    ],
    [
      'an unknown key',
      '  api: { targets: [us], hysteresis: 1 }',
      'cfg.yaml:13:25: server_sets.api.hysteresis: unknown key "hysteresis"',
    ],
    [
      'a bad hold',
      '  api: { targets: [us], hold: soon }',
      'cfg.yaml:13:31: server_sets.api.hold: "soon" is not a duration: write it like 250ms, 30s, 5m or 1h',
    ],
    [
      'a bad set name',
      '  "a b": { targets: [us] }',
      'cfg.yaml:13:3: server_sets.a b: a set\'s name becomes a label value: use letters, digits, "_", "." and "-"',
    ],
  ])('%s: an error at its position', (_, set, message) => {
    expect(problems(`${targets}${set}\n`)).toBe(message);
  });

  it('a target in two sets that score it differently', () => {
    expect(problems(`${targets}  api: { targets: [us, eu] }\n  edge:\n    targets: [ap, us]\n    score: icmp\n`)).toBe(
      'cfg.yaml:15:19: server_sets.edge.targets[1]: "us" is scored icmp here but http in set "api"',
    );
  });
});
