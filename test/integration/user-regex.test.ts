import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, tempConfig, vantage } from '../helpers/agent-process.js';

// A body that sends `^(a+)+$` into catastrophic backtracking: 2^32 steps on V8's default engine.
const HOSTILE_BODY = `${'a'.repeat(32)}!`;

let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((_req, res) => res.end(HOSTILE_BODY));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('a user regex cannot hold the agent', () => {
  it('matches a catastrophic body_regex against a hostile body and reports the mismatch', async () => {
    const started = Date.now();
    const { code, stdout } = await vantage(['probe', 'https', url, '--body-regex', '^(a+)+$', '--json']);
    expect(code).toBe(1);
    expect(jsonLines(stdout)).toMatchObject([{ ok: false, error: { code: 'HTTP_BODY_MISMATCH' } }]);
    // A bound on a hang, not a speed test: the unbounded engine needs minutes for this body.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('refuses a pattern that cannot be bounded with the file position, keeping validate a gate', async () => {
    const cfg = tempConfig(`targets:
  - name: web
    url: ${url}
    checks: [{kind: https, body_regex: '(a+)\\1'}]
`);
    try {
      const { code, stderr } = await vantage(['validate', '-c', cfg.file]);
      expect(code).toBe(2);
      expect(stderr).toContain(`${cfg.file}:4:`);
      expect(stderr).toMatch(/body_regex uses a backreference or lookaround/);
    } finally {
      cfg.remove();
    }
  });
});
