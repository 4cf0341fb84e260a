import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { CheckRegistry } from '../../src/checks/registry.js';
import { tcpKind } from '../../src/checks/tcp/index.js';
import { createLogger } from '../../src/log.js';
import { tempConfig } from '../helpers/agent-process.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { fakeNet } from '../helpers/fake-net.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('Agent start', () => {
  it('answers /metrics with its identity labels while the warm-ups run, and is ready only after them', async () => {
    const port = await freePort();
    const cfg = tempConfig(
      `agent: {id: a1, region: r1}\nlisten: "127.0.0.1:${port}"\ndiagnose_endpoint: {enabled: false}\n` +
        'targets:\n  - name: t\n    host: 192.0.2.1\n    checks:\n      - {kind: tcp, port: 9}\n',
    );
    cleanups.push(() => cfg.remove());
    let release = (): void => undefined;
    const warmUps = new Promise<void>((resolve) => {
      release = resolve;
    });
    const agent = new Agent({
      configFile: cfg.file,
      registry: new CheckRegistry([tcpKind]),
      // No run is due before the test ends (the clock is fake): no port is used.
      net: { ...fakeNet(), ready: () => warmUps },
      clock: new FakeClock(Date.UTC(2026, 0, 1)),
      log: createLogger('silent'),
      watch: false,
    });
    cleanups.push(() => agent.stop(0).then(() => undefined));
    const started = agent.start();
    const get = async (path: string) => {
      for (;;) {
        const res = await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined);
        if (res) return { status: res.status, body: await res.text() };
        await new Promise((r) => setTimeout(r, 5));
      }
    };

    const early = await get('/metrics');
    expect(early.status).toBe(200);
    expect(early.body).toMatch(/^vantage_build_info\{.*agent="a1",region="r1"/m);
    expect(early.body).not.toMatch(/^vantage_\w+\{(?![^}]*agent=)[^}]*\}/m);
    expect((await get('/readyz')).status).toBe(503);

    release();
    await started;
    expect((await get('/readyz')).status).toBe(200);
    // The diagnose endpoint is loaded on its first request, and answers as it always did.
    const diagnose = await get('/diagnose?target=t');
    expect(diagnose).toEqual({ status: 404, body: expect.stringContaining('diagnose_endpoint.enabled: true') });
  });
});
