import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryFailure, queryWithin } from '../helpers/dns-query.js';

/**
 * A DNS server in a process of its own (this test blocks its own event loop): it answers every
 * query after DELAY_MS with the query itself, QR set (an empty NOERROR answer), and prints its port.
 */
const DELAY_MS = 10;
const SERVER = `
const s = require('node:dgram').createSocket('udp4');
const answer = (m, r) => { const a = Buffer.from(m); a[2] |= 0x80; s.send(a, r.port, r.address); };
s.on('message', (m, r) => setTimeout(() => answer(m, r), ${DELAY_MS}));
s.bind(0, '127.0.0.1', () => console.log(s.address().port));
setTimeout(() => process.exit(0), 120000).unref();
process.on('disconnect', () => process.exit(0));
`;

let server: ChildProcess;
let port = 0;

beforeAll(async () => {
  server = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  port = await new Promise<number>((resolve, reject) => {
    server.stdout!.once('data', (chunk: Buffer) => resolve(Number(String(chunk).trim())));
    server.once('exit', (code) => reject(new Error(`the DNS server exited (${code})`)));
  });
});

afterAll(() => {
  server.kill();
});

const fds = (): number => readdirSync('/proc/self/fd').length;

function ask(name: string, timeoutMs = 2_000) {
  return queryWithin(
    { server: { transport: 'udp', address: '127.0.0.1', port }, name, type: 'A', ednsUdpSize: 1232 },
    timeoutMs,
  );
}

describe('DNS over UDP, stamped by the kernel', () => {
  it('times the answer by its arrival, not by when the event loop gets to it', async () => {
    await ask('warm.test');
    const asked = ask('blocked.test');
    // The query leaves at once; the answer arrives DELAY_MS later, while this loop is held.
    await new Promise((r) => setTimeout(r, 1));
    const until = performance.now() + 150;
    while (performance.now() < until);
    const answer = await asked;
    expect(answer.transport).toBe('udp');
    // Node's dgram socket would say 150 ms or more: the answer reached JavaScript after the block.
    expect(answer.phasesMs.request).toBeGreaterThanOrEqual(DELAY_MS - 1);
    expect(answer.phasesMs.request).toBeLessThan(100);
  });

  it('closes its socket after an answer, a port unreachable (IPv4 and IPv6) and a timeout', async () => {
    await ask('warm.test');
    const before = fds();
    await ask('ok.test');
    // A port unreachable, IPv4 (ICMP type 3 code 3) and IPv6 (type 1 code 4).
    for (const address of ['127.0.0.1', '::1']) {
      const refused = queryWithin(
        { server: { transport: 'udp', address, port: 9 }, name: 'refused.test', type: 'A' },
        1_000,
      );
      const failure = await queryFailure(refused);
      expect(failure.code).toBe('DNS_CONNECT_FAILED');
      expect(failure.message).toContain('ECONNREFUSED');
    }
    expect((await queryFailure(ask('late.test', DELAY_MS / 2))).code).toBe('DNS_TIMEOUT');
    await new Promise((r) => setTimeout(r, 2 * DELAY_MS));
    expect(fds()).toBeLessThanOrEqual(before);
  });
});
