import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent } from '../../src/agent/agent.js';
import { defineKind } from '../../src/checks/check.js';
import type { CheckResult } from '../../src/checks/check.js';
import { baseResult } from '../../src/checks/per-ip.js';
import { CheckRegistry } from '../../src/checks/registry.js';
import { createLogger } from '../../src/log.js';
import { tempConfig } from '../helpers/agent-process.js';
import { FakeClock, flushPromises } from '../helpers/fake-clock.js';
import { fakeNet } from '../helpers/fake-net.js';

/** A kind whose runs finish when the test releases them (or at once with `hold: false`). */
function gateKind() {
  const pending: Array<{ check: string; release: () => void }> = [];
  const kind = defineKind({
    kind: 'gate',
    summary: 'test kind',
    settings: z.strictObject({ hold: z.boolean().default(false), variant: z.number().default(0) }),
    phases: ['probe'],
    metrics: [],
    parseProbeTarget: (arg) => ({ host: arg, settings: {} }),
    create: (spec) => ({
      spec,
      run: () =>
        new Promise<CheckResult[]>((resolve) => {
          const done = (): void =>
            resolve([
              {
                ...baseResult(spec, Date.UTC(2026, 0, 1)),
                ip: '192.0.2.1',
                ok: true,
                durationMs: 1,
                phasesMs: { probe: 1 },
              },
            ]);
          if (spec.settings.hold) pending.push({ check: spec.name, release: done });
          else done();
        }),
    }),
  });
  return { kind, pending };
}

/** The gate kind touches no port: any call fails the test that made it. */
const unusedNet = fakeNet();
const configs: Array<{ remove(): void }> = [];
const agents: Agent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop(0);
  for (const c of configs.splice(0)) c.remove();
});

function config(checks: string): string {
  return (
    `agent: {id: a1}\nlisten: "127.0.0.1:0"\ntargets:\n  - name: t\n    host: 192.0.2.1\n    labels: {team: ` +
    `x}\n    checks:\n${checks}`
  );
}

async function startAgent(text: string) {
  const cfg = tempConfig(text);
  configs.push(cfg);
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const gate = gateKind();
  const agent = new Agent({
    configFile: cfg.file,
    registry: new CheckRegistry([gate.kind]),
    net: unusedNet,
    clock,
    log: createLogger('silent'),
    watch: false,
  });
  agents.push(agent);
  const { port } = await agent.start();
  const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return { agent, clock, gate, scrape, write: cfg.write };
}

const runs = (body: string, check: string) =>
  Number(
    / (\d+)$/.exec(
      body.split('\n').find((l) => l.startsWith(`vantage_check_runs_total{check="${check}"`)) ?? '',
    )?.[1] ?? 0,
  );

describe('Agent reloads', () => {
  it('a renamed check takes its series with it; the new name starts fresh', async () => {
    const { agent, clock, scrape, write } = await startAgent(
      config('      - {kind: gate, name: old, interval: 1s, timeout: 500ms}\n'),
    );
    await clock.advance(3_000);
    expect(runs(await scrape(), 'old')).toBeGreaterThanOrEqual(2);
    write(config('      - {kind: gate, name: new, interval: 1s, timeout: 500ms}\n'));
    expect(await agent.reload()).toBe(true);
    await clock.advance(1_000);
    const body = await scrape();
    expect(body).not.toContain('check="old"');
    expect(runs(body, 'new')).toBe(1);
  });

  it('a run in flight when its check changes does not write series for the old definition', async () => {
    const { agent, clock, gate, scrape, write } = await startAgent(
      config('      - {kind: gate, name: c, interval: 10s, timeout: 5s, hold: true}\n'),
    );
    await clock.advance(10_000);
    expect(gate.pending).toHaveLength(1);
    write(config('      - {kind: gate, name: c, interval: 10s, timeout: 5s, hold: true, variant: 1}\n'));
    expect(await agent.reload()).toBe(true);
    gate.pending.shift()?.release();
    await flushPromises();
    expect(await scrape()).not.toContain('vantage_check_runs_total{check="c"');
  });

  it('a change of target labels only keeps the job and its counters', async () => {
    const { agent, clock, scrape, write } = await startAgent(
      config('      - {kind: gate, name: c, interval: 1s, timeout: 500ms}\n'),
    );
    await clock.advance(3_000);
    const before = runs(await scrape(), 'c');
    write(config('      - {kind: gate, name: c, interval: 1s, timeout: 500ms}\n').replace('team: x', 'team: y'));
    expect(await agent.reload()).toBe(true);
    await clock.advance(1_000);
    const body = await scrape();
    expect(runs(body, 'c')).toBe(before + 1);
    expect(body).toContain('vantage_target_info{target="t",group="",team="y"');
  });

  it('a reload asked for while stopping does nothing and reports no failure', async () => {
    const { agent, write } = await startAgent(config('      - {kind: gate, name: c, interval: 1s, timeout: 500ms}\n'));
    write(config('      - {kind: gate, name: d, interval: 1s, timeout: 500ms}\n'));
    const stopped = agent.stop(0);
    expect(await agent.reload()).toBe(false);
    await expect(stopped).resolves.toBe(true);
  });

  it('an unchanged file is not reloaded again on a watcher event', async () => {
    const { agent, clock, scrape } = await startAgent(
      config('      - {kind: gate, name: c, interval: 1s, timeout: 500ms}\n'),
    );
    await clock.advance(2_000);
    expect(await agent.reload({ onlyIfChanged: true })).toBe(true);
    const body = await scrape();
    expect(body).toMatch(/vantage_config_reloads_total\{result="success",agent="a1"[^}]*\} 1/);
  });
});
