import { describe, expect, it } from 'vitest';
import { labContext } from './lab-context.js';

const lab = labContext();

interface Report {
  targets: Array<{
    target: string;
    verdict: string;
    ping: Array<{ ip: string; ok: boolean; traceroute?: { lastRespondingHop: number } }>;
    https: Array<{ ok: boolean; status: number }>;
  }>;
  agent: { id: string };
  time: { utc: string };
}

async function diagnose(...args: string[]): Promise<{ code: number | null; report: Report; text: string }> {
  const json = await lab!.vantage(['diagnose', ...args, '--json', '--count', '2', '--timeout', '3s']);
  const text = await lab!.vantage(['diagnose', ...args, '--count', '1', '--timeout', '3s']);
  return { code: json.code, report: JSON.parse(json.stdout) as Report, text: text.stdout };
}

describe.skipIf(!lab)('vantage diagnose in the network lab', () => {
  it('traces the silent IPs of a name whose first record is silent, three of them, and no answering IP', async () => {
    const truth = lab!.truth;
    const name = `partial.${truth.dns.zone}`;
    const { code, report, text } = await diagnose(name);
    expect(code).toBe(1);
    const [t] = report.targets;
    const silentV4 = truth.dns.records[name]!.a.filter((ip) => truth.hosts.silent.some((s) => s.v4 === ip));
    const traced = t!.ping.filter((r) => r.traceroute).map((r) => r.ip);
    expect(traced).toEqual(silentV4.slice(0, 3));
    expect(t!.ping.find((r) => r.ip === truth.hosts.up[0]!.v4)).toMatchObject({ ok: true });
    expect(
      t!.ping.filter((r) => r.traceroute).every((r) => r.traceroute!.lastRespondingHop === truth.hops.length),
    ).toBe(true);
    expect(t!.verdict).toContain(
      `IP ${silentV4[0]} silent, path ends at hop ${truth.hops.length} (${truth.lastRouter.v4})`,
    );
    // The text report starts with the verdict, made to be pasted.
    expect(text.split('\n')[0]).toMatch(
      new RegExp(`^${name.replaceAll('.', '\\.')}: DNS ok via 1 resolver \\(system\\)`),
    );
  });

  it('traces the first record alone when only it is silent, and three of five when three are', async () => {
    const truth = lab!.truth;
    const traced = async (name: string): Promise<string[]> => {
      const run = await lab!.vantage(['diagnose', name, '--json', '--count', '2', '--timeout', '3s']);
      const report = JSON.parse(run.stdout) as Report;
      return report.targets[0]!.ping.filter((r) => r.traceroute).map((r) => r.ip);
    };
    const silent = truth.hosts.silent.map((h) => h.v4);
    expect(await traced(`firstsilent.${truth.dns.zone}`)).toEqual([silent[0]]);
    expect(await traced(`threeoffive.${truth.dns.zone}`)).toEqual(silent.slice(0, 3));
  });

  it('names the hijacking resolver in the verdict', async () => {
    const truth = lab!.truth;
    const { report } = await diagnose(
      `https://${truth.https.name}/`,
      '--resolver',
      truth.dns.hijack.v4,
      '--ca-file',
      truth.https.caFile,
    );
    const [t] = report.targets;
    expect(t!.verdict).toContain(`DNS HIJACKED at ${truth.dns.hijack.v4} (resolver disagreement)`);
    expect(t!.https.length).toBeGreaterThan(0);
    expect(t!.https.every((r) => r.ok && r.status === 200)).toBe(true);
    expect(Date.parse(report.time.utc)).not.toBeNaN();
  });

  it('says a name with every IP answering is fine, without a traceroute', async () => {
    const truth = lab!.truth;
    const { code, report } = await diagnose(`multi.${truth.dns.zone}`);
    expect(code).toBe(0);
    expect(report.targets[0]!.ping.some((r) => r.traceroute)).toBe(false);
    expect(report.targets[0]!.verdict).toMatch(/DNS ok via 1 resolver \(system\), 5 IPs; 5 IPs answer ping/);
  });
});
