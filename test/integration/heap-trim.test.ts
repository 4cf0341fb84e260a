import { describe, expect, it } from 'vitest';
import { agentFixture } from '../helpers/agent-fixture.js';
import { BIN } from '../helpers/agent-process.js';
import type { AgentProcess } from '../helpers/agent-process.js';
import { refusedListener } from '../helpers/tcp-servers.js';

// The real agent under node --trace-gc: V8 prints every collection on stdout, a memory-reducing
// one as "Mark-Compact (reduce)". heap_trim's notifications must show up there as V8's own work,
// not only in the agent's counter. (What they give back, V8 12's pooled pages, shows in RSS on
// Node 22 only; bench/scale.mjs measures it.)

const fixture = agentFixture(refusedListener);

function start(heapTrim: string): AgentProcess {
  const config = `${heapTrim}targets:
  - name: app
    host: 127.0.0.1
    checks: [{kind: tcp, port: ${fixture.port()}, interval: 1s, timeout: 500ms}]
`;
  return fixture.start(config, [], [process.execPath, '--trace-gc', BIN]);
}

function trims(body: string): number {
  const line = body.split('\n').find((l) => l.startsWith('vantage_heap_trims_total'));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const reducing = (agent: AgentProcess): number =>
  agent.logs.filter((l) => l.msg?.includes('Mark-Compact (reduce)') === true).length;

/** Waits for the collection V8 runs after the last notification (it marks incrementally first). */
async function settle(agent: AgentProcess, atLeast: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (reducing(agent) < atLeast && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

describe('heap_trim', () => {
  it('makes V8 run a memory-reducing collection after start-up and each interval', async () => {
    const agent = start('heap_trim: {interval: 1s}\n');
    // The start-up trim, a blocking one, first: its time is logged.
    const trimmed = await agent.waitForLog((l) => l.msg === 'heap trimmed after start-up');
    expect(trimmed.ms).toEqual(expect.any(Number));
    const body = await agent.waitForMetrics((b) => trims(b) >= 4, 15_000);
    await settle(agent, trims(body));
    // At least one per notification but one: V8 drops a notification that comes while a marking
    // already runs (rare in an idle agent); its own reducer adds at most two.
    expect(reducing(agent)).toBeGreaterThanOrEqual(trims(body) - 1);
  });

  it('leaves V8 alone when disabled', async () => {
    const agent = start('heap_trim: {enabled: false, interval: 1s}\n');
    await agent.port();
    await new Promise((r) => setTimeout(r, 5_000));
    expect(trims(await agent.scrape())).toBe(0);
    expect(agent.logs.some((l) => l.msg === 'heap trimmed after start-up')).toBe(false);
    // V8's own memory reducer may start in an idle process (8 s after a full collection, at most two
    // in a row), never one a second. A tcp check only: no HTTPS worker, whose isolate would add its own.
    expect(reducing(agent)).toBeLessThanOrEqual(2);
  });
});
