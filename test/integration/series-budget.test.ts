import { afterEach, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../src/checks/registry.js';
import { seriesPerIp, seriesPerServerSet, seriesPerTarget } from '../../src/metrics/series-estimate.js';
import { AgentProcess, tempConfig, vantage } from '../helpers/agent-process.js';

const registry = builtinRegistry();
const icmp = registry.get('icmp')!;

/** Sample lines (not comments) of one check. */
function linesOf(body: string, check: string): string[] {
  return body.split('\n').filter((l) => !l.startsWith('#') && l.includes(`check="${check}"`));
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function runAgent(yaml: string): Promise<AgentProcess> {
  const cfg = tempConfig(yaml);
  const agent = AgentProcess.start(['run', '-c', cfg.file, '--listen', '127.0.0.1:0']);
  cleanups.push(() => {
    agent.kill();
    cfg.remove();
  });
  return agent;
}

describe('series budget (real agent, real ICMP to 127.0.0.1)', () => {
  it('writes at most 12 series per ICMP target-IP by default, and the histogram lines only when asked', async () => {
    const agent = await runAgent(`agent: {id: a1, region: r, carrier: c}
series_budget: 1000
targets:
  - name: lo
    host: 127.0.0.1
    checks:
      - {kind: icmp, name: plain, interval: 1s, timeout: 900ms, count: 2, spacing: 10ms, packet_timeout: 500ms}
      - {kind: icmp, name: detailed, interval: 1s, timeout: 900ms, count: 2, spacing: 10ms, packet_timeout: 500ms,
         histograms: true}
`);
    const body = await agent.waitForMetrics(
      (b) => /probe_success\{check="plain".* 1$/m.test(b) && /probe_success\{check="detailed".* 1$/m.test(b),
    );
    const plain = linesOf(body, 'plain');
    expect(plain).toHaveLength(seriesPerIp(icmp, false));
    expect(plain.length).toBeLessThanOrEqual(12);
    expect(plain.some((l) => l.includes('_bucket'))).toBe(false);
    const detailed = linesOf(body, 'detailed');
    expect(detailed).toHaveLength(seriesPerIp(icmp, true));
    expect(detailed.some((l) => l.startsWith('probe_icmp_rtt_seconds_bucket'))).toBe(true);
    // The agent's own count: every probe line plus one vantage_target_info line per target, plus
    // the quality model's lines (per target and the agent's; how many depends on its state).
    const count = Number(/^vantage_series\{[^}]*\} (\d+)$/m.exec(body)?.[1]);
    const quality = body.split('\n').filter((l) => /^vantage_(agent_)?quality_/.test(l)).length;
    expect(count).toBe(plain.length + detailed.length + 1 + quality);
    // Per target, once its window has figures: the estimate's seriesPerTarget (validate counts it),
    // less the HTTP RTT figure an icmp-only target never has.
    const withFigures = await agent.waitForMetrics((b) => /^vantage_quality_success_ratio\{target="lo"/m.test(b));
    const ofTarget = withFigures
      .split('\n')
      .filter((l) => /^vantage_(quality_|target_info)/.test(l) && l.includes('target="lo"'));
    expect(ofTarget).toHaveLength(seriesPerTarget() - 1);
    expect(ofTarget.some((l) => l.startsWith('vantage_quality_http_rtt_seconds'))).toBe(false);
  });

  it('warns once when the series pass series_budget', async () => {
    const agent = await runAgent(`series_budget: 5
targets:
  - name: lo
    host: 127.0.0.1
    checks: [{kind: icmp, interval: 1s, timeout: 900ms, count: 1, packet_timeout: 500ms}]
`);
    await agent.waitForMetrics((b) => /probe_success\{check="lo-icmp".* 1$/m.test(b));
    await agent.scrape();
    const warning = await agent.waitForLog((l) => typeof l.msg === 'string' && l.msg.includes('series_budget'));
    expect(warning).toMatchObject({ series_budget: 5, level: 'warn' });
    expect(Number(warning.series)).toBeGreaterThan(5);
    for (let i = 0; i < 3; i++) await agent.scrape();
    const said = agent.logs.filter((l) => typeof l.msg === 'string' && l.msg.includes('series_budget'));
    expect(said).toHaveLength(1);
  });
});

describe('vantage validate', () => {
  it('prints the series a config will write at one IP per target, against the budget', async () => {
    const cfg = tempConfig(`series_budget: 10
targets:
  - name: a
    host: 192.0.2.1
    checks: [{kind: icmp}, {kind: tcp, port: 443}]
`);
    try {
      const { code, stdout } = await vantage(['validate', '-c', cfg.file]);
      expect(code).toBe(0);
      const tcp = seriesPerIp(registry.get('tcp')!, false);
      const expected = seriesPerIp(icmp, false) + tcp + seriesPerTarget();
      expect(stdout).toContain(
        `series: about ${expected} at one IP per target (icmp 12, tcp ${tcp}, per target ${seriesPerTarget()}); ` +
          'series_budget 10 (over the budget)',
      );
    } finally {
      cfg.remove();
    }
  });

  it('counts the series of each server set: a score and a rank per target, a change counter per set', async () => {
    const cfg = tempConfig(`targets:
  - {name: a, host: 192.0.2.1, checks: [{kind: icmp}]}
  - {name: b, host: 192.0.2.2, checks: [{kind: icmp}]}
  - {name: c, host: 192.0.2.3, checks: [{kind: icmp}]}
server_sets:
  api: {targets: [a, b, c], score: icmp}
  edge: {targets: [a, b], score: icmp}
`);
    try {
      const { code, stdout } = await vantage(['validate', '-c', cfg.file]);
      expect(code).toBe(0);
      expect(seriesPerServerSet(3)).toBe(2 * 3 + 1);
      const pings = 3 * seriesPerIp(icmp, false);
      const sets = seriesPerServerSet(3) + seriesPerServerSet(2);
      expect(stdout).toContain(
        `series: about ${pings + 3 * seriesPerTarget() + sets} at one IP per target ` +
          `(icmp ${pings}, per target ${3 * seriesPerTarget()}, server sets ${sets})`,
      );
    } finally {
      cfg.remove();
    }
  });
});
