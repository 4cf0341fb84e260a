import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, BIN, tempConfig } from '../helpers/agent-process.js';
import type { LogLine } from '../helpers/agent-process.js';
import { labContext } from './lab-context.js';
import { must } from './shell.js';

/**
 * The network-quality model on real packets. Two agents in the lab's agent namespace ping two
 * hosts every second from an address of their own (so the faults below touch no other test):
 * one with the default trend threshold, one without the trend term (`trend: 1`, which no trend
 * passes, so only the rate can make a target Good again). nft in the agent namespace then drops 60 %
 * of the lossy host's echoes (`numgen random`), none again, and finally everything from that
 * address: the agent's own uplink is cut (the kernel refuses the sends, ICMP_SEND_FAILED).
 *
 * Settings: `period: 20s` (three times Chromium's pace, to keep the test short) and `max_age: 40s`.
 * Worked out from them (1 s runs, weight ratio q = 0.5^(1/20) per run): at 60 % loss the rate
 * falls under 0.9 after about 6 runs; after the loss ends the trend passes 0.2 once the rate rose
 * 0.2 (about 12 s), while the rate alone passes 0.9 only after about 20 s of the 40 s window.
 */
const lab = labContext();

const TABLE = 'vantage_quality_lab';

describe.skipIf(!lab)('network quality in the lab', () => {
  const truth = lab!.truth;
  const ns = truth.namespaces.agent;
  const lossy = truth.hosts.up[2]!.v4;
  const clean = truth.hosts.up[1]!.v4;
  let source = '';
  let sourceCidr = '';
  let iface = '';
  const agents: AgentProcess[] = [];
  const configs: Array<{ remove(): void }> = [];

  /** Replaces this test's nft table in the agent namespace (atomic: one `nft -f`). */
  const faults = (rules: string): Promise<string> =>
    must(
      ['ip', 'netns', 'exec', ns, 'nft', '-f', '-'],
      `table inet ${TABLE}\ndelete table inet ${TABLE}\ntable inet ${TABLE} {\n  chain out {\n` +
        `    type filter hook output priority 0; policy accept;\n${rules}\n  }\n}\n`,
    );

  beforeAll(async () => {
    // An address of the agent's own subnet, .200: the routers reach it on their connected route.
    const shown = await must(['ip', '-n', ns, '-o', '-4', 'addr', 'show']);
    const line = shown.split('\n').find((l) => l.includes(` ${truth.agent.v4}/`));
    const m = /^\d+:\s+(\S+)\s+inet\s+\S+\/(\d+)/.exec(line ?? '');
    if (!m) throw new Error(`no address ${truth.agent.v4} in ${ns}:\n${shown}`);
    iface = m[1]!;
    source = truth.agent.v4.replace(/\.\d+$/, '.200');
    sourceCidr = `${source}/${m[2]}`;
    await must(['ip', '-n', ns, 'addr', 'add', sourceCidr, 'dev', iface]);
    await faults('');
    for (const trend of ['0.2', '1']) {
      const cfg = tempConfig(`agent: {id: trend-${trend}}
quality: {period: 20s, max_age: 40s, trend: ${trend}}
targets:
  - name: lossy
    host: ${lossy}
    checks: [{kind: icmp, count: 1, packet_timeout: 700ms, source_address: ${source}, interval: 1s, timeout: 900ms}]
  - name: clean
    host: ${clean}
    checks: [{kind: icmp, count: 1, packet_timeout: 700ms, source_address: ${source}, interval: 1s, timeout: 900ms}]
`);
      configs.push(cfg);
      agents.push(
        AgentProcess.start(['run', '-c', cfg.file, '--listen', '127.0.0.1:0'], {}, [
          'ip',
          'netns',
          'exec',
          ns,
          process.execPath,
          BIN,
        ]),
      );
    }
    await Promise.all(agents.map((a) => a.port()));
  }, 30_000);

  afterAll(async () => {
    for (const a of agents) a.kill();
    for (const c of configs) c.remove();
    await must(['ip', 'netns', 'exec', ns, 'nft', 'delete', 'table', 'inet', TABLE]).catch(() => undefined);
    if (sourceCidr) await must(['ip', '-n', ns, 'addr', 'del', sourceCidr, 'dev', iface]).catch(() => undefined);
  });

  /** Resolves with the time (ms since `sinceMs`) the agent logs `target` turning `to`. */
  async function change(agent: AgentProcess, target: string | null, to: string, sinceMs: number): Promise<number> {
    const seen = await agent.waitForLog(
      (l: LogLine) =>
        l.event === 'quality_change' && l.target === target && l.to === to && Date.parse(String(l.time)) >= sinceMs,
      120_000,
    );
    return Date.parse(String(seen.time)) - sinceMs;
  }

  it('60 % loss: Bad within 20 s; recovery faster with the trend term; a cut uplink: Offline', async () => {
    const [withTrend, without] = agents as [AgentProcess, AgentProcess];
    await Promise.all(agents.map((a) => change(a, 'lossy', 'good', 0)));
    // A full window of healthy runs first (max_age), as a path that was fine for a while.
    await new Promise((r) => setTimeout(r, 40_000));
    const lossStart = Date.now();
    await faults(`    ip saddr ${source} ip daddr ${lossy} numgen random mod 100 < 60 drop`);
    const bad = await Promise.all(agents.map((a) => change(a, 'lossy', 'bad', lossStart)));
    // Stay in the loss a while: the window fills with it, as in a real outage.
    await new Promise((r) => setTimeout(r, Math.max(0, 40_000 - (Date.now() - lossStart))));
    const recoveryStart = Date.now();
    await faults('');
    const [recoveredWith, recoveredWithout] = await Promise.all([
      change(withTrend, 'lossy', 'good', recoveryStart),
      change(without, 'lossy', 'good', recoveryStart),
    ]);
    const cutStart = Date.now();
    await faults(`    ip saddr ${source} drop`);
    const offline = await change(withTrend, null, 'offline', cutStart);
    await faults('');
    console.log(
      `[quality lab] 60% loss -> Bad after ${bad.map((ms) => (ms / 1000).toFixed(1)).join(' / ')} s; ` +
        `loss gone -> Good after ${(recoveredWith / 1000).toFixed(1)} s with the trend term, ` +
        `${(recoveredWithout / 1000).toFixed(1)} s without; ` +
        `uplink cut -> agent Offline after ${(offline / 1000).toFixed(1)} s`,
    );
    for (const ms of bad) expect(ms).toBeLessThan(20_000);
    expect(recoveredWith).toBeLessThan(recoveredWithout);
    expect(recoveredWith).toBeLessThan(30_000);
    expect(recoveredWithout).toBeLessThan(60_000);
    // The kernel refuses every send (EPERM from nft here, ENETUNREACH with the link down): no route
    // at all, said on the first tick after each target's next run, not after max_age (40 s).
    expect(offline).toBeLessThan(5_000);
  }, 300_000);
});
