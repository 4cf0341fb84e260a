import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent } from '../../src/agent/agent.js';
import { ConfigReloader } from '../../src/agent/config-reloader.js';
import { defineKind } from '../../src/checks/check.js';
import { baseResult } from '../../src/checks/per-ip.js';
import { CheckRegistry } from '../../src/checks/registry.js';
import { createLogger } from '../../src/log.js';
import { tempConfig } from '../helpers/agent-process.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { fakeNet } from '../helpers/fake-net.js';

// Issue 12, defects 5 and 9: what a reload does for an unchanged, a rejected and a hung file.

/** A kind whose settings count their parses and may name a file that must exist (as a ca_file must). */
function fileKind() {
  const seen = { parses: 0 };
  const kind = defineKind({
    kind: 'file',
    summary: 'test kind',
    settings: z.strictObject({
      needs_file: z.string().optional(),
      variant: z
        .number()
        .default(0)
        .transform((v) => {
          seen.parses++;
          return v;
        }),
    }),
    phases: ['probe'],
    metrics: [],
    parseProbeTarget: (arg) => ({ host: arg, settings: {} }),
    checkSettings: (_target, settings) =>
      settings.needs_file === undefined || existsSync(settings.needs_file)
        ? []
        : [{ path: ['needs_file'], message: `${settings.needs_file} does not exist` }],
    create: (spec) => ({
      spec,
      run: () =>
        Promise.resolve([
          {
            ...baseResult(spec, Date.UTC(2026, 0, 1)),
            ip: '192.0.2.1',
            ok: true,
            durationMs: 1,
            phasesMs: { probe: 1 },
          },
        ]),
    }),
  });
  return { kind, seen };
}

/** Log lines as objects. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('info', { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function config(check: string): string {
  return `agent: {id: a1}\nlisten: "127.0.0.1:0"\ntargets:\n  - name: t\n    host: 192.0.2.1\n    checks:\n${check}`;
}

async function startAgent(text: string) {
  const cfg = tempConfig(text);
  cleanups.push(() => cfg.remove());
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const { kind, seen } = fileKind();
  const { log, lines } = capturingLogger();
  const agent = new Agent({
    configFile: cfg.file,
    registry: new CheckRegistry([kind]),
    net: fakeNet(),
    clock,
    log,
    watch: false,
  });
  cleanups.push(async () => void (await agent.stop(0)));
  const { port } = await agent.start();
  const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return { agent, clock, seen, lines, scrape, cfg };
}

const metric = (body: string, name: string, labels = ''): number =>
  Number(new RegExp(`^${name}\\{${labels}[^}]*\\} (\\S+)$`, 'm').exec(body)?.[1] ?? NaN);
/** A counter not yet incremented has no series: 0. */
const reloads = (body: string, result: string) =>
  metric(body, 'vantage_config_reloads_total', `result="${result}",`) || 0;
const runs = (body: string) => metric(body, 'vantage_check_runs_total', 'check="c",');

describe('which reloads do work', () => {
  it('SIGHUP with the running config unchanged parses and applies nothing: no log, counters untouched', async () => {
    const { agent, clock, seen, lines, scrape } = await startAgent(
      config('      - {kind: file, name: c, interval: 1s, timeout: 500ms}\n'),
    );
    await clock.advance(3_000);
    const before = await scrape();
    const parses = seen.parses;
    expect(await agent.reload()).toBe(true);
    expect(await agent.reload({ onlyIfChanged: true })).toBe(true);
    expect(seen.parses).toBe(parses);
    expect(lines.filter((l) => l.msg === 'config reloaded')).toEqual([]);
    await clock.advance(1_000);
    const after = await scrape();
    expect(reloads(after, 'success')).toBe(1);
    expect(reloads(after, 'failure')).toBe(0);
    expect(runs(after)).toBe(runs(before) + 1);
  });

  it('a rejected file is validated again on SIGHUP (named files may be new), not on a watcher event', async () => {
    const { agent, clock, seen, lines, scrape, cfg } = await startAgent(
      config('      - {kind: file, name: c, interval: 1s, timeout: 500ms}\n'),
    );
    const pem = join(cfg.dir, 'ca.pem');
    cfg.write(config(`      - {kind: file, name: c, interval: 1s, timeout: 500ms, needs_file: ${pem}}\n`));
    expect(await agent.reload()).toBe(false);
    expect(lines.filter((l) => l.event === 'config_rejected')).toHaveLength(1);

    writeFileSync(pem, 'a certificate');
    const parses = seen.parses;
    // The file watcher fires (the directory changed), but the config's text did not: no news.
    expect(await agent.reload({ onlyIfChanged: true })).toBe(false);
    expect(seen.parses).toBe(parses);
    expect(metric(await scrape(), 'vantage_config_last_reload_successful')).toBe(0);

    // SIGHUP: the same text, validated again, now accepted and applied.
    expect(await agent.reload()).toBe(true);
    expect(seen.parses).toBeGreaterThan(parses);
    expect(lines.filter((l) => l.msg === 'config reloaded')).toHaveLength(1);
    await clock.advance(1_000);
    const body = await scrape();
    expect(metric(body, 'vantage_config_last_reload_successful')).toBe(1);
    expect(reloads(body, 'failure')).toBe(1);
    expect(reloads(body, 'success')).toBe(2);
    rmSync(pem);
  });

  it('the file coming back to the running config ends a rejection, without a parse', async () => {
    const good = config('      - {kind: file, name: c, interval: 1s, timeout: 500ms}\n');
    const { agent, seen, lines, scrape, cfg } = await startAgent(good);
    cfg.write(config('      - {kind: file, name: c, interval: nope}\n'));
    expect(await agent.reload({ onlyIfChanged: true })).toBe(false);
    expect(metric(await scrape(), 'vantage_config_last_reload_successful')).toBe(0);
    cfg.write(good);
    const parses = seen.parses;
    expect(await agent.reload({ onlyIfChanged: true })).toBe(true);
    expect(seen.parses).toBe(parses);
    expect(metric(await scrape(), 'vantage_config_last_reload_successful')).toBe(1);
    expect(lines.some((l) => l.msg === 'config file is back to the running config')).toBe(true);
  });
});

describe('a reload that cannot finish', () => {
  /** A reloader of a FIFO (its real read would block) whose injected read never returns. */
  function hungReloader(readTimeoutMs: number) {
    const cfg = tempConfig('');
    cleanups.push(() => cfg.remove());
    rmSync(cfg.file);
    execFileSync('mkfifo', [cfg.file]);
    const { kind } = fileKind();
    const { log, lines } = capturingLogger();
    const outcomes: boolean[] = [];
    const reloader = new ConfigReloader({
      file: cfg.file,
      registry: new CheckRegistry([kind]),
      env: {},
      log,
      apply: () => undefined,
      loaded: (ok) => outcomes.push(ok),
      read: () => new Promise<string>(() => undefined),
      readTimeoutMs,
    });
    cleanups.push(() => reloader.stop());
    return { reloader, lines, outcomes, file: cfg.file };
  }

  it('counts as failed once the read deadline passes (metric 0, a log line), and blocks no later reload', async () => {
    const { reloader, lines, outcomes, file } = hungReloader(50);
    expect(await reloader.reload()).toBe(false);
    expect(outcomes).toEqual([false]);
    expect(lines.find((l) => l.event === 'config_rejected')?.problems).toEqual([
      `${file}:1:1: reading the config file took longer than 0.05s (a hung filesystem?); nothing was changed`,
    ]);
    // The hung read still holds its thread: a second one is not started beside it.
    expect(await reloader.reload()).toBe(false);
    expect(outcomes).toEqual([false, false]);
    expect(lines.filter((l) => l.event === 'config_rejected')[1]?.problems).toEqual([
      `${file}:1:1: an earlier read of the config file has still not returned (a hung filesystem?); nothing was ` +
        'changed',
    ]);
  });

  it('stop() abandons a reload in progress instead of waiting for it: no outcome, no rejection', async () => {
    const { reloader, lines, outcomes } = hungReloader(600_000);
    const reloading = reloader.reload();
    await new Promise((r) => setTimeout(r, 100)); // the read is under way
    const stopped = reloader.stop().then(() => 'stopped');
    const hung = new Promise((r) => setTimeout(() => r('still waiting'), 5_000).unref());
    expect(await Promise.race([stopped, hung])).toBe('stopped');
    expect(await reloading).toBe(false);
    expect(await reloader.reload()).toBe(false);
    expect(outcomes).toEqual([]);
    expect(lines.some((l) => l.event === 'config_rejected')).toBe(false);
  });
});
