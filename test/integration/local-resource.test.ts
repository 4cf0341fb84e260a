import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';

const DIST = new URL('../../dist/', import.meta.url).href;

/**
 * Runs in a child whose descriptor limit is 64 (prlimit): imports the built transports, fills the
 * descriptor table with /dev/null, then opens a socket of each kind towards 127.0.0.1:9 (the table
 * is full, so nothing is sent), frees the table and prints each failure as JSON.
 */
const CHILD = `
import { openSync, closeSync } from 'node:fs';
const { systemClock } = await import('${DIST}clock.js');
const { DnsClient } = await import('${DIST}net/dns/dns-client.js');
const { NodeTcpConnector } = await import('${DIST}net/tcp-connector.js');
const { HttpsClient } = await import('${DIST}net/http/https-client.js');
const dns = new DnsClient(systemClock);
const tcp = new NodeTcpConnector(systemClock);
const held = [];
try { for (;;) held.push(openSync('/dev/null', 'r')); } catch {}
const outcome = (p) => p.then(() => ({ code: 'ok' }), (e) => ({ code: e.code, phase: e.phase, message: e.message }));
const signal = AbortSignal.timeout(3000);
const query = (transport) => outcome(dns.query({
  server: { transport, address: '127.0.0.1', port: 9, serverName: 'dns.test' }, name: 'ok.test', type: 'A', signal,
}));
const results = {
  udp: await query('udp'),
  tcp: await query('tcp'),
  tls: await query('tls'),
  https: await query('https'),
  tcpConnect: await outcome(tcp.connect({ ip: '127.0.0.1', port: 9, signal })),
  httpsExchange: await outcome(new HttpsClient(systemClock).exchange({
    url: new URL('https://web.test:9/'), ip: '127.0.0.1', method: 'GET', headers: {}, httpVersion: 'auto',
    maxBodyBytes: 1024, signal,
  })),
};
for (const fd of held) closeSync(fd);
process.stdout.write(JSON.stringify({ filled: held.length, results }));
`;

describe('a full descriptor table', () => {
  it('is LOCAL_RESOURCE_EXHAUSTED for all DNS transports, TCP connect and HTTPS exchange, not the peer', async () => {
    const child = spawn('prlimit', ['--nofile=64:64', process.execPath, '--input-type=module', '-e', CHILD], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += String(d)));
    child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const [code] = (await once(child, 'close')) as [number | null];
    clearTimeout(kill);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as {
      filled: number;
      results: Record<string, { code: string; phase: string; message: string }>;
    };
    expect(out.filled).toBeGreaterThan(0);
    expect(out.results).toEqual({
      udp: { code: 'LOCAL_RESOURCE_EXHAUSTED', phase: 'request', message: expect.stringContaining('EMFILE') },
      tcp: { code: 'LOCAL_RESOURCE_EXHAUSTED', phase: 'connect', message: expect.stringContaining('EMFILE') },
      tls: { code: 'LOCAL_RESOURCE_EXHAUSTED', phase: 'connect', message: expect.stringContaining('EMFILE') },
      https: { code: 'LOCAL_RESOURCE_EXHAUSTED', phase: 'connect', message: expect.stringContaining('EMFILE') },
      tcpConnect: { code: 'LOCAL_RESOURCE_EXHAUSTED', phase: 'connect', message: expect.stringContaining('EMFILE') },
      httpsExchange: { code: 'LOCAL_RESOURCE_EXHAUSTED', phase: 'connect', message: expect.stringContaining('EMFILE') },
    });
    expect(out.results.udp?.message).toContain('file descriptor');
  });
});
