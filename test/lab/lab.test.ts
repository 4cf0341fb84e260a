import { describe, expect, it } from 'vitest';
import { Lab, removeLeftovers } from './lab.js';
import { classicHops, labContext } from './lab-context.js';
import { run } from './shell.js';

const lab = labContext();
const d = describe.skipIf(!lab);

/** The loss fraction from iputils ping's summary line. */
function pingLoss(out: string): number {
  return Number(/([\d.]+)% packet loss/.exec(out)?.[1]) / 100;
}

/** Hop addresses from `traceroute -n -q1` output; `*` for a silent hop. */
d('network lab self-test with real tools', () => {
  const { truth, exec } = lab!;
  const agent = truth.namespaces.agent;

  it.each(['v4', 'v6'] as const)(
    'ping (%s) to the delayed responder shows the configured delay within 1 ms',
    async (family) => {
      const out = await exec(agent, [
        'ping',
        family === 'v6' ? '-6' : '-4',
        '-c',
        '20',
        '-i',
        '0.05',
        truth.echo[family],
      ]);
      const rtts = [...out.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
      expect(rtts).toHaveLength(20);
      // min is the delay plus the path; the median also carries the user-space responder's scheduling
      // jitter when other test files load both cores (one reply 25 ms late would move a mean 1.25 ms).
      expect(rtts[0]).toBeGreaterThanOrEqual(truth.echo.delayMs);
      expect(rtts[0]! - truth.echo.delayMs).toBeLessThanOrEqual(1);
      expect(rtts[10]! - truth.echo.delayMs).toBeLessThanOrEqual(5);
    },
  );

  it.each(['v4', 'v6'] as const)(
    'traceroute -I (%s) lists the router addresses the lab reports, * at the silent hop',
    async (family) => {
      const target = truth.hosts.up[0]![family];
      const out = await exec(agent, [
        'traceroute',
        family === 'v6' ? '-6' : '-4',
        '-I',
        '-n',
        '-q',
        '1',
        '-w',
        '1,0,0',
        target,
      ]);
      const expected = truth.hops.map((h, i) => (i + 1 === truth.silentHop ? '*' : h[family]));
      expect(classicHops(out.stdout)).toEqual([...expected, target]);
    },
  );

  it('traceroute to a blackholed destination ends in silence after the last router', async () => {
    const out = await exec(agent, [
      'traceroute',
      '-I',
      '-n',
      '-q',
      '1',
      '-w',
      '1,0,0',
      '-m',
      String(truth.hops.length + 2),
      truth.blackhole.v4,
    ]);
    const hops = classicHops(out.stdout);
    expect(hops.slice(0, truth.hops.length).at(-1)).toBe(truth.lastRouter.v4);
    expect(hops.slice(truth.hops.length)).toEqual(['*', '*']);
  });

  it('the unreachable destination is answered with ICMP host unreachable by the last router', async () => {
    const out = await exec(agent, ['ping', '-c', '1', '-W', '1', truth.unreachable.v4]);
    expect(out.stdout).toContain(`From ${truth.lastRouter.v4} icmp_seq=1 Destination Host Unreachable`);
  });

  it('silent IPs resolve in DNS but never answer; their neighbours do', async () => {
    const silent = await exec(agent, ['ping', '-c', '2', '-i', '0.2', '-W', '1', '-q', truth.hosts.silent[0]!.v4]);
    expect(pingLoss(silent.stdout)).toBe(1);
    const up = await exec(agent, ['ping', '-c', '2', '-i', '0.2', '-W', '1', '-q', truth.hosts.up[0]!.v4]);
    expect(pingLoss(up.stdout)).toBe(0);
  });

  it('drops the configured fraction of packets to the lossy address', async () => {
    const out = await exec(agent, ['ping', '-c', '1000', '-i', '0.002', '-W', '1', '-q', truth.lossy.v4], 30_000);
    // Binomial, n = 1000: four standard deviations of a 10 % rate are about 3.8 points.
    expect(Math.abs(pingLoss(out.stdout) - truth.lossy.lossRate)).toBeLessThan(0.04);
  });

  const dig = (server: string, ...args: string[]) => exec(agent, ['dig', '+tries=1', '+time=2', `@${server}`, ...args]);

  it('dig sees the designed records from the authoritative server', async () => {
    const multi = truth.dns.records[`multi.${truth.dns.zone}`]!;
    const a = await dig(truth.dns.auth.v4, '+short', `multi.${truth.dns.zone}`, 'A');
    expect(a.stdout.trim().split('\n').sort()).toEqual([...multi.a].sort());
    const aaaa = await dig(truth.dns.auth.v6, '+short', `multi.${truth.dns.zone}`, 'AAAA');
    expect(aaaa.stdout.trim().split('\n').sort()).toEqual([...multi.aaaa].sort());
    const chain = await dig(truth.dns.auth.v4, '+short', `alias.${truth.dns.zone}`, 'A');
    expect(chain.stdout.trim().split('\n')).toEqual([
      `alias2.${truth.dns.zone}.`,
      `web.${truth.dns.zone}.`,
      truth.https.v4,
    ]);
    expect((await dig(truth.dns.auth.v4, truth.dns.nxName)).stdout).toContain('status: NXDOMAIN');
    expect((await dig(truth.dns.auth.v4, truth.dns.servfailName)).stdout).toContain('status: SERVFAIL');
  });

  it('delays the slow name by the configured time', async () => {
    const out = await dig(truth.dns.auth.v4, truth.dns.slowName);
    const ms = Number(/Query time: (\d+) msec/.exec(out.stdout)?.[1]);
    expect(ms).toBeGreaterThanOrEqual(truth.dns.slowDelayMs);
    expect(ms).toBeLessThan(truth.dns.slowDelayMs + 50);
  });

  it('truncates the big answer over UDP so dig retries over TCP and gets it all', async () => {
    const out = await dig(truth.dns.auth.v4, truth.dns.bigName);
    expect(out.stdout).toContain('Truncated, retrying in TCP mode');
    expect(out.stdout).toMatch(/\(TCP\)/);
    expect(out.stdout).toContain(`ANSWER: ${truth.dns.records[truth.dns.bigName]!.a.length},`);
  });

  it('the hijacking resolver lies about names and rewrites NXDOMAIN; the silent one never answers', async () => {
    const hijacked = await dig(truth.dns.hijack.v4, '+short', truth.dns.hijackedNames[0]!);
    expect(hijacked.stdout.trim()).toBe(truth.dns.hijackAddress.v4);
    const rewritten = await dig(truth.dns.hijack.v4, truth.dns.nxName);
    expect(rewritten.stdout).toContain('status: NOERROR');
    expect(rewritten.stdout).toContain(truth.dns.hijackAddress.v4);
    const honest = await dig(truth.dns.hijack.v4, '+short', `multi.${truth.dns.zone}`);
    expect(honest.stdout.trim().split('\n').sort()).toEqual(
      [...truth.dns.records[`multi.${truth.dns.zone}`]!.a].sort(),
    );
    const silent = await exec(agent, [
      'dig',
      '+tries=1',
      '+time=1',
      `@${truth.dns.silent.v4}`,
      `web.${truth.dns.zone}`,
    ]);
    expect(silent.stdout).toMatch(/no servers could be reached|timed out/);
  });

  const curl = (...args: string[]) =>
    exec(agent, [
      'curl',
      '-s',
      '-o',
      '/dev/null',
      '--cacert',
      truth.https.caFile,
      '-w',
      '%{http_code} %{http_version} %{time_appconnect} %{time_starttransfer} %{time_total}',
      ...args,
    ]);
  const timings = (out: string) => {
    const [code, version, appconnect, start, total] = out.trim().split(' ');
    return {
      code: Number(code),
      version,
      appconnect: Number(appconnect) * 1000,
      start: Number(start) * 1000,
      total: Number(total) * 1000,
    };
  };
  const url = (path: string, port = truth.https.ports.valid) => `https://${truth.https.name}:${port}${path}`;

  it('curl -w shows the injected first-byte delay, over HTTP/2 and HTTP/1.1', async () => {
    for (const proto of ['--http2', '--http1.1']) {
      const t = timings((await curl(proto, url('/ttfb/150'))).stdout);
      expect(t.code).toBe(200);
      expect(t.version).toBe(proto === '--http2' ? '2' : '1.1');
      expect(t.start - t.appconnect).toBeGreaterThanOrEqual(150);
      // + request, path and timer lateness; margin for a loaded machine
      expect(t.start - t.appconnect).toBeLessThan(250);
    }
  });

  it('separates the header delay (HTTP/1.1) and the body delay from the first byte', async () => {
    const headers = timings((await curl('--http1.1', url('/headers/150'))).stdout);
    expect(headers.start - headers.appconnect).toBeLessThan(100);
    expect(headers.total - headers.appconnect).toBeGreaterThanOrEqual(150);
    const body = timings((await curl(url('/body/150'))).stdout);
    expect(body.start - body.appconnect).toBeLessThan(100);
    // From the handshake, not from the first byte: curl may read the first part late on a busy
    // machine, which moves time before the boundary but cannot shorten the pause after it.
    expect(body.total - body.appconnect).toBeGreaterThanOrEqual(150);
  });

  it('follows the redirect chain; serves expired and wrong-name certificates that fail verification', async () => {
    const chain = await exec(agent, [
      'curl',
      '-sL',
      '-o',
      '/dev/null',
      '--cacert',
      truth.https.caFile,
      '-w',
      '%{num_redirects} %{http_code}',
      url('/redirect/3'),
    ]);
    expect(chain.stdout).toBe('3 200');
    const expired = await curl(url('/', truth.https.ports.expired));
    expect(expired.code).toBe(60);
    const verify = await exec(agent, [
      'curl',
      '-s',
      '-o',
      '/dev/null',
      '--cacert',
      truth.https.caFile,
      '-w',
      '%{ssl_verify_result}',
      url('/', truth.https.ports.expired),
    ]);
    expect(verify.stdout).toBe('10'); // X509_V_ERR_CERT_HAS_EXPIRED
    const wrong = await exec(agent, [
      'curl',
      '-sS',
      '-o',
      '/dev/null',
      '--cacert',
      truth.https.caFile,
      url('/', truth.https.ports.wrongName),
    ]);
    expect(wrong.code).toBe(60);
    expect(wrong.stderr).toMatch(/no alternative certificate subject name matches|does not match/);
  });

  it('resolves lab names through the system resolver inside the agent namespace', async () => {
    const out = await exec(agent, ['getent', 'ahostsv4', `web.${truth.dns.zone}`]);
    expect(out.stdout).toContain(truth.https.v4);
  });
});

describe.skipIf(!lab)('lab lifecycle', () => {
  it('a second lab coexists, comes up and goes down in under 10 s, and leaves nothing behind', async () => {
    const started = Date.now();
    const second = await Lab.up({ routers: 3, silentHop: 0 });
    const prefix = second.truth.prefix;
    expect(prefix).not.toBe(lab!.truth.prefix);
    const ping = await second.exec(second.truth.namespaces.agent, [
      'ping',
      '-c',
      '1',
      '-W',
      '2',
      second.truth.hosts.up[0]!.v4,
    ]);
    expect(ping.code).toBe(0);
    await second.down();
    expect(Date.now() - started).toBeLessThan(10_000);
    const list = await run(['ip', 'netns', 'list']);
    expect(list.stdout).not.toContain(prefix);
    const procs = await run(['pgrep', '-f', `vantage-lab-ca-.*truth.json`]);
    // only the shared lab's three Node services
    expect(procs.stdout.split('\n').filter(Boolean).length).toBeLessThanOrEqual(3);
  });

  it('removes leftovers of a dead run by prefix and spares the live lab', async () => {
    const dead = 'vlab4194303-agent'; // above any pid this machine hands out in a test run
    await run(['ip', 'netns', 'add', dead]);
    const removed = await removeLeftovers();
    expect(removed).toContain('vlab4194303-');
    const list = await run(['ip', 'netns', 'list']);
    expect(list.stdout).not.toContain(dead);
    expect(list.stdout).toContain(lab!.truth.namespaces.agent);
  });
});
