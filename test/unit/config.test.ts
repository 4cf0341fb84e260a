import { describe, expect, it } from 'vitest';
import { configProblems, loadConfigText } from '../helpers/config-text.js';

const load = loadConfigText;
const problems = configProblems;

const minimal = `
targets:
  - name: web
    host: 127.0.0.1
    checks:
      - kind: tcp
        port: 443
`;

describe('valid configs', () => {
  it('fills defaults: identity from the host name, 30s interval, 5s timeout, 64 runs, port 9477', () => {
    const config = load(minimal);
    expect(config.agent).toEqual({ id: 'host-1', region: '', carrier: '', networkType: '', labels: {} });
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 9477 });
    expect(config.maxConcurrentRuns).toBe(64);
    expect(config.checks).toHaveLength(1);
    const [check] = config.checks;
    expect(check).toMatchObject({
      name: 'web-tcp',
      kind: 'tcp',
      target: { name: 'web', host: '127.0.0.1', group: '', labels: {} },
      schedule: { type: 'interval', intervalMs: 30_000 },
      timeoutMs: 5_000,
      settings: { port: 443, ip_family: 'any', ips: 'all' },
    });
  });

  it('interpolates environment variables with defaults, and keeps $${ literal', () => {
    const config = load(
      `
agent:
  id: \${POD_NAME}
  region: \${VANTAGE_REGION:-nowhere}
  carrier: \${VANTAGE_CARRIER:-none}
  labels:
    note: "cost $\${5}"
${minimal}`,
      { POD_NAME: 'vantage-abc12', VANTAGE_CARRIER: 'vodafone' },
    );
    expect(config.agent).toMatchObject({
      id: 'vantage-abc12',
      region: 'nowhere',
      carrier: 'vodafone',
      labels: { note: 'cost ${5}' },
    });
  });

  it('takes a URL target, its host and the default port of its scheme', () => {
    const config = load(`
defaults: { interval: 10s, timeout: 2s }
listen: "[::1]:9100"
targets:
  - name: api
    url: https://[2001:db8::1]:8443/health
    group: aws
    labels: { service: api }
    checks:
      - kind: tcp
        cron: "*/15 * * * * *"
        name: api-port
`);
    expect(config.listen).toEqual({ host: '::1', port: 9100 });
    expect(config.checks[0]).toMatchObject({
      name: 'api-port',
      target: {
        host: '2001:db8::1',
        url: 'https://[2001:db8::1]:8443/health',
        group: 'aws',
        labels: { service: 'api' },
      },
      schedule: { type: 'cron', expression: '*/15 * * * * *' },
      timeoutMs: 2_000,
    });
  });

  it('is frozen', () => {
    const config = load(minimal);
    expect(Object.isFrozen(config.checks[0]?.target)).toBe(true);
    expect(() => {
      (config.agent as { id: string }).id = 'x';
    }).toThrow();
  });
});

describe('rejected configs name file, line, column and field', () => {
  it('reports every mistake at once, in file order', () => {
    const text = `agent:
  region: eu
  colour: blue
defaults:
  interval: 30x
targets:
  - name: web
    host: 127.0.0.1
    checks:
      - kind: tcp
        port: 99999
      - kind: tcp
        name: web-2
        port: 80
        timeout: 40s
`;
    expect(problems(text)).toEqual([
      'cfg.yaml:3:3: agent.colour: unknown key "colour"',
      'cfg.yaml:5:13: defaults.interval: "30x" is not a duration: write it like 250ms, 30s, 5m or 1h',
      'cfg.yaml:11:15: targets[0].checks[0].port: Too big: expected number to be <=65535',
      'cfg.yaml:15:18: targets[0].checks[1].timeout: timeout 40s must be shorter than the interval (30s), or runs ' +
        'would overlap',
    ]);
  });

  it.each([
    [
      'a wrong type',
      'max_concurrent_runs: many\n',
      /max_concurrent_runs: Invalid input: expected number, received string/,
    ],
    [
      'a heap trim more often than once a second',
      'heap_trim: {interval: 500ms}\n',
      /heap_trim\.interval: heap_trim\.interval must be at least 1s: each trim is a full collection/,
    ],
    [
      'an unknown kind',
      'targets: [{name: a, host: h, checks: [{kind: smtp}]}]\n',
      /targets\[0\]\.checks\[0\]\.kind: unknown check kind "smtp" \(known: tcp, icmp, traceroute, dns, https\)/,
    ],
    [
      'an unknown kind setting',
      'targets: [{name: a, host: h, checks: [{kind: tcp, port: 1, prot: 2}]}]\n',
      /targets\[0\]\.checks\[0\]\.prot: unknown key "prot"/,
    ],
    ['a missing port', 'targets: [{name: a, host: h, checks: [{kind: tcp}]}]\n', /needs a port/],
    [
      'host and url together',
      'targets: [{name: a, host: h, url: "https://h/", checks: [{kind: tcp}]}]\n',
      /exactly one of host: and url:/,
    ],
    ['a bad url', 'targets: [{name: a, url: "ftp://h/", checks: [{kind: tcp}]}]\n', /url must be an absolute http/],
    [
      'a bad cron',
      'targets: [{name: a, host: h, checks: [{kind: tcp, port: 1, cron: "every minute"}]}]\n',
      /is not a cron expression/,
    ],
    [
      'interval and cron',
      'targets: [{name: a, host: h, checks: [{kind: tcp, port: 1, cron: "* * * * *", interval: 1m}]}]\n',
      /interval: or cron:, not both/,
    ],
    [
      'timeout beyond a cron gap',
      'targets: [{name: a, host: h, checks: [{kind: tcp, port: 1, cron: "*/2 * * * * *", timeout: 3s}]}]\n',
      /shortest gap between cron runs \(2s\)/,
    ],
    [
      'a bare-number duration',
      'defaults: {interval: 30}\ntargets: [{name: a, host: h, checks: [{kind: tcp, port: 1}]}]\n',
      /defaults\.interval: Invalid input: expected string, received number/,
    ],
    [
      'an interval beyond a day',
      'targets: [{name: a, host: h, checks: [{kind: tcp, port: 1, interval: 2000h}]}]\n',
      /"2000h" is longer than the maximum of 24h/,
    ],
    [
      'a bad listen address',
      'listen: "9477"\ntargets: [{name: a, host: h, checks: [{kind: tcp, port: 1}]}]\n',
      /listen: "9477" is not HOST:PORT/,
    ],
    [
      'a name that cannot be a label value',
      'targets: [{name: "a b", host: h, checks: [{kind: tcp, port: 1}]}]\n',
      /targets\[0\]\.name: use letters, digits/,
    ],
    ['no targets', 'targets: []\n', /at least one target/],
    ['YAML syntax', 'targets: [\n', /^cfg\.yaml:2:1: YAML:/],
    ['a duplicate YAML key', 'listen: ":1"\nlisten: ":2"\n', /Map keys must be unique/],
    [
      'an unset variable',
      'agent: {region: "${NOPE}"}\ntargets: [{name: a, host: h, checks: [{kind: tcp, port: 1}]}]\n',
      /cfg\.yaml:1:17: environment variable NOPE is not set/,
    ],
  ])('%s', (_what, text, pattern) => {
    const found = problems(text);
    expect(
      found.some((p) => pattern.test(p)),
      found.join('\n'),
    ).toBe(true);
  });

  it('reports duplicate target and check names with where the first one is', () => {
    const found = problems(`targets:
  - name: a
    host: h
    checks: [{kind: tcp, port: 1}, {kind: tcp, port: 2}]
  - name: a
    host: h2
    checks: [{kind: tcp, port: 3, name: a-tcp}]
`);
    expect(found).toEqual([
      'cfg.yaml:4:43: targets[0].checks[1]: duplicate check name "a-tcp" (first at targets[0].checks[0]); give each ' +
        'check a distinct name:',
      'cfg.yaml:5:11: targets[1].name: duplicate target name "a" (first at targets[0])',
      'cfg.yaml:7:41: targets[1].checks[0]: duplicate check name "a-tcp" (first at targets[0].checks[0]); give each ' +
        'check a distinct name:',
    ]);
  });

  it.each([
    ['not a label name', '9lives', /"9lives" is not a valid label name/],
    ['reserved prefix', '__meta', /"__meta" is not a valid label name/],
    ['a label Vantage sets', 'target', /"target" is a label Vantage or its process metrics set/],
    ['a label of the process metrics', 'space', /"space" is a label Vantage or its process metrics set/],
  ])('refuses a label that is %s', (_what, name, pattern) => {
    const found = problems(
      `agent: {labels: {${name}: x}}\ntargets: [{name: a, host: h, labels: {${name}: y}, checks: [{kind: tcp, port: ` +
        `1}]}]\n`,
    );
    expect(found.filter((p) => pattern.test(p))).toHaveLength(2);
    expect(found[0]).toMatch(/^cfg\.yaml:1:\d+: agent\.labels\./);
  });
});

describe('each part is checked on its own', () => {
  it("a target mistake does not hide its checks' mistakes", () => {
    expect(
      problems(`targets:
  - name: web
    host: 127.0.0.1
    grup: aws
    checks:
      - kind: tcp
        port: 99999
        timeout: 40s
`),
    ).toEqual([
      'cfg.yaml:4:5: targets[0].grup: unknown key "grup"',
      'cfg.yaml:7:15: targets[0].checks[0].port: Too big: expected number to be <=65535',
      'cfg.yaml:8:18: targets[0].checks[0].timeout: timeout 40s must be shorter than the interval (30s), or runs ' +
        'would overlap',
    ]);
  });

  it('a top-level mistake does not drop valid defaults', () => {
    const found = problems(`agent: {colour: blue}
defaults: {interval: 2m}
targets: [{name: a, host: h, checks: [{kind: tcp, port: 1, timeout: 45s}]}]
`);
    expect(found).toEqual(['cfg.yaml:1:9: agent.colour: unknown key "colour"']);
  });

  it('a check without kind is reported and the others still checked', () => {
    const found = problems(`targets: [{name: a, host: h, checks: [{port: 1}, {kind: tcp, port: x}]}]\n`);
    expect(found).toEqual([
      'cfg.yaml:1:39: targets[0].checks[0].kind: required string is missing',
      'cfg.yaml:1:68: targets[0].checks[1].port: Invalid input: expected number, received string',
    ]);
  });

  it('blames defaults once, not every check, when only defaults make the timeout too long', () => {
    const found = problems(`defaults: {interval: 2s}
targets: [{name: a, host: h, checks: [{kind: tcp, port: 1}, {kind: tcp, name: b, port: 2}]}]
`);
    expect(found).toEqual([
      'cfg.yaml:1:22: defaults.interval: timeout 5s must be shorter than the interval (2s), or runs would overlap',
    ]);
  });

  it.each([['exa mple.com'], ['h:443'], ['https://h/']])('refuses host %j', (host) => {
    expect(problems(`targets: [{name: a, host: "${host}", checks: [{kind: tcp, port: 1}]}]\n`)[0]).toMatch(
      /host must be a host name or an IP address/,
    );
  });

  it('takes label values written as numbers or booleans as text', () => {
    const config = load(`agent: {labels: {tier: 1, canary: true}}\n${minimal}`);
    expect(config.agent.labels).toEqual({ tier: '1', canary: 'true' });
  });
});

describe('environment interpolation', () => {
  it('an empty default stays an empty string: an empty agent id means the host name', () => {
    expect(load(`agent:\n  id: \${AGENT_ID:-}\n${minimal}`).agent.id).toBe('host-1');
  });

  it('types unquoted substitutions as YAML would, keeps quoted ones strings', () => {
    const config = load(
      `max_concurrent_runs: \${MAX:-8}
agent: {region: "\${REGION:-007}"}
targets:
  - name: a
    host: h
    checks:
      - kind: tcp
        port: \${PORT}
`,
      { PORT: '8443' },
    );
    expect(config.maxConcurrentRuns).toBe(8);
    expect(config.agent.region).toBe('007');
    expect(config.checks[0]?.settings).toMatchObject({ port: 8443 });
  });

  it.each([
    ['region: "${A:-${B}}"', /nested variable references are not supported/],
    ['region: "a${R"', /unterminated variable reference/],
    ['region: "${1X}"', /bad variable reference/],
    ['region: "${EMPTY}"', /EMPTY is not set or empty/],
  ])('reports %s', (line, pattern) => {
    const found = problems(`agent: {${line}}\n${minimal}`, { EMPTY: '' });
    expect(
      found.some((p) => pattern.test(p)),
      found.join('\n'),
    ).toBe(true);
  });
});

describe('egress and the diagnose endpoint', () => {
  it('are off by default and take durations and lists when set', () => {
    expect(load(minimal)).toMatchObject({
      egress: { urls: [], intervalMs: 300_000, timeoutMs: 10_000 },
      diagnoseEndpoint: { enabled: false, minIntervalMs: 30_000, resolvers: [], count: 3 },
    });
    const config = load(
      `egress:\n  urls: [https://checkip.amazonaws.com]\n  interval: 1m\ndiagnose_endpoint: {enabled: true, ` +
        `min_interval: 5s, resolvers: ["198.18.0.53"]}\n${minimal}`,
    );
    expect(config.egress).toEqual({ urls: ['https://checkip.amazonaws.com'], intervalMs: 60_000, timeoutMs: 10_000 });
    expect(config.diagnoseEndpoint).toEqual({
      enabled: true,
      minIntervalMs: 5_000,
      resolvers: ['198.18.0.53'],
      count: 3,
    });
  });

  it('name the line of a bad echo URL and of a resolver the dns kind would reject', () => {
    expect(problems(`egress:\n  urls: [ftp://x]\n${minimal}`)).toEqual([
      expect.stringMatching(/^cfg\.yaml:2:\d+: egress\.urls\[0\]/),
    ]);
    const [resolver, ...rest] = problems(`diagnose_endpoint:\n  resolvers: ["not a resolver"]\n${minimal}`);
    expect(rest).toEqual([]);
    expect(resolver).toMatch(/^cfg\.yaml:2:\d+: diagnose_endpoint\.resolvers\[0\]: .*not a resolver/);
  });
});
