// @ts-check
// Start-up time: spawn `vantage run` until GET /metrics answers 200 with the agent's labels, and
// `vantage probe tcp` spawn -> exit (what a support engineer waits for by hand).
// Peer: prometheus-blackbox-exporter, spawn until its /metrics answers 200.
// Runs on the Node that runs it: `path/to/node22 bench/startup.mjs` for Node 22's numbers (the
// compile cache is on from the second start there). --bin=PATH: another build's dist/bin/vantage.cjs;
// --runs=N: starts per process (default 10); --base=PATH: a second build timed beside it, start by start
// (on a loaded machine numbers drift by tens of ms within a minute: only interleaved runs compare).
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { BLACKBOX, BLACKBOX_MISSING } from './lib/blackbox.mjs';
import { VANTAGE_BIN } from './lib/dist.mjs';
import { freePort, LOOPBACK, pollHttp } from './lib/http.mjs';
import { execTracked, installed, makeTempDir, removeTempDir, spawnTracked, stopChild } from './lib/proc.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { rounded, summarize } from './lib/stats.mjs';
import { fmt, statCells } from './lib/table.mjs';

/** @import { AddressInfo } from 'node:net' */
/** @import { Cell } from './lib/table.mjs' */

/**
 * One process to time: how to start it, its port, and when its /metrics counts as ready.
 * @typedef {{
 *   cmd: string, args: string[], port: number, ready: (res: { status: number | undefined, body: string }) => boolean,
 *   env?: NodeJS.ProcessEnv,
 * }} Launch
 */

const BIN = process.argv.find((a) => a.startsWith('--bin='))?.slice('--bin='.length) ?? VANTAGE_BIN;
const RUNS = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice('--runs='.length) ?? 10);
const BASE = process.argv.find((a) => a.startsWith('--base='))?.slice('--base='.length);
const READY_TIMEOUT_MS = 15_000;
/** Linux's USER_HZ, the unit of /proc/PID/stat's CPU times. */
const CLOCK_TICKS_PER_S = 100;
const CHECKS = 5;

/**
 * CHECKS tcp checks against the listener on `targetPort`.
 * @param {number} targetPort
 */
function vantageConfig(targetPort) {
  const targets = Array.from(
    { length: CHECKS },
    (_, i) => `  - name: local-${i}
    host: ${LOOPBACK}
    checks:
      - kind: tcp
        port: ${targetPort}`,
  ).join('\n');
  return `agent:
  id: bench
  region: bench
listen: ${LOOPBACK}:9477
defaults:
  interval: 5s
  timeout: 1s
targets:
${targets}
`;
}

const BLACKBOX_CONFIG = `modules:
  tcp_connect:
    prober: tcp
    timeout: 1s
`;

/**
 * CPU time (user + system) a process has used so far, from /proc (10 ms ticks): on a loaded machine
 * the wall time to ready moves with the other processes' load, the CPU it took much less.
 * @param {number} pid
 */
async function cpuMsOf(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
}

/**
 * Spawns one process, times spawn -> ready, then stops it and times SIGTERM -> exit.
 * @param {Launch} launch
 */
async function timeOne({ cmd, args, port, ready, env }) {
  const t0 = performance.now();
  const child = spawnTracked(cmd, args, { cwd: process.cwd(), env });
  try {
    await pollHttp({ port, path: '/metrics', ready, timeoutMs: READY_TIMEOUT_MS, child });
    const readyMs = performance.now() - t0;
    const cpuMs = child.pid ? await cpuMsOf(child.pid) : undefined;
    const stopMs = await stopChild(child);
    const { code, signal } = await child.exited;
    return { readyMs, cpuMs, stopMs, exit: signal ?? code };
  } catch (err) {
    throw new Error(
      `${cmd} ${args.join(' ')}: ${err instanceof Error ? err.message : err}\n--- its output ---\n${child.output()}`,
    );
  } finally {
    await stopChild(child);
  }
}

/**
 * One kind of start to time: `once` starts one process and says how long it took.
 * @typedef {{
 *   label: string, once: () => Promise<{ readyMs: number, cpuMs?: number, stopMs?: number, exit: string }>,
 * }} Contender
 */

/**
 * A server start (spawn -> /metrics ready, then stopped) of what `makeRun` launches (a fresh port each time).
 * @param {string} label
 * @param {() => Promise<Launch>} makeRun
 * @returns {Contender}
 */
function serverStart(label, makeRun) {
  return {
    label,
    once: async () => {
      const r = await timeOne(await makeRun());
      return { readyMs: r.readyMs, cpuMs: r.cpuMs, stopMs: r.stopMs, exit: String(r.exit) };
    },
  };
}

/**
 * `vantage probe tcp` against `targetPort`, spawn -> exit.
 * @param {string} label
 * @param {string} bin
 * @param {number} targetPort
 * @param {NodeJS.ProcessEnv} env
 * @returns {Contender}
 */
function probeRun(label, bin, targetPort, env) {
  return {
    label,
    once: async () => {
      const args = [bin, 'probe', 'tcp', `${LOOPBACK}:${targetPort}`];
      const r = await execTracked(process.execPath, args, { timeoutMs: READY_TIMEOUT_MS, env });
      if (r.code !== 0) throw new Error(`vantage probe tcp: exit ${r.signal ?? r.code}: ${r.stderr}${r.stdout}`);
      return { readyMs: r.wallMs, exit: String(r.code) };
    },
  };
}

/**
 * RUNS starts of each contender, one of each in turn: drift in the machine's load reaches all alike.
 * @param {Contender[]} contenders
 */
async function interleaved(contenders) {
  const out = contenders.map((c) => ({
    label: c.label,
    /** @type {number[]} */ ready: [],
    /** @type {number[]} */ stop: [],
    /** @type {number[]} */ cpu: [],
    /** @type {Set<string>} */ exits: new Set(),
  }));
  // Round -1 is not counted: it writes each build's code cache, which every later start reads.
  for (let i = -1; i < RUNS; i++) {
    for (const [k, c] of contenders.entries()) {
      const r = await c.once();
      if (i < 0) continue;
      const o = out[k];
      o?.ready.push(r.readyMs);
      if (r.stopMs !== undefined) o?.stop.push(r.stopMs);
      if (r.cpuMs !== undefined) o?.cpu.push(r.cpuMs);
      o?.exits.add(r.exit);
    }
  }
  return out.map((o) => ({ ...o, exits: [...o.exits] }));
}

export async function run() {
  const dir = makeTempDir('vantage-bench-startup-');
  // The checks' target: a listener on 127.0.0.1 that accepts and closes.
  const target = createServer((s) => s.destroy());
  await new Promise((r) => target.listen(0, LOOPBACK, () => r(undefined)));
  try {
    const targetPort = /** @type {AddressInfo} */ (target.address()).port;
    const vantageCfg = join(dir, 'vantage.yaml');
    await writeFile(vantageCfg, vantageConfig(targetPort));

    /**
     * Each build its own code-cache directory (src/bin/code-cache.cts): a build drops the caches of
     * other builds of the same Node, so two builds started in turn would each find none.
     * @param {string} name
     * @returns {NodeJS.ProcessEnv}
     */
    const ownCodeCache = (name) => ({ ...process.env, VANTAGE_CODE_CACHE: join(dir, `code-cache-${name}`) });
    /**
     * `vantage run` of the build at `bin`.
     * @param {string} label
     * @param {string} bin
     * @param {NodeJS.ProcessEnv} env
     */
    const vantageRun = (label, bin, env) =>
      serverStart(label, async () => {
        const port = await freePort();
        return {
          cmd: process.execPath,
          args: [bin, 'run', '-c', vantageCfg, '--listen', `${LOOPBACK}:${port}`, '--log-level', 'warn'],
          port,
          ready: (res) => res.status === 200 && res.body.includes('agent="'),
          env,
        };
      });
    const env = ownCodeCache('this');
    const baseEnv = ownCodeCache('base');
    /** @type {Contender[]} */
    const contenders = [
      vantageRun('vantage run', BIN, env),
      probeRun('vantage probe tcp (spawn -> exit)', BIN, targetPort, env),
      ...(BASE
        ? [
            vantageRun('vantage run, --base build', BASE, baseEnv),
            probeRun('vantage probe tcp, --base build', BASE, targetPort, baseEnv),
          ]
        : []),
      // Reference: a bare Node HTTP server answering /metrics, to separate Node's own start-up from
      // the agent's module loading and config work.
      serverStart('node bare http (ref)', async () => {
        const port = await freePort();
        const code =
          `require('node:http').createServer((q, s) => s.end('x{agent="bare"} 1\\n'))` +
          `.listen(${port}, '${LOOPBACK}');`;
        return {
          cmd: process.execPath,
          args: ['-e', code],
          port,
          ready: (res) => res.status === 200 && res.body.includes('agent="'),
        };
      }),
    ];
    let peerNote;
    if (await installed(BLACKBOX)) {
      const bbCfg = join(dir, 'blackbox.yml');
      await writeFile(bbCfg, BLACKBOX_CONFIG);
      contenders.push(
        serverStart('blackbox_exporter', async () => {
          const port = await freePort();
          return {
            cmd: BLACKBOX,
            args: [`--web.listen-address=${LOOPBACK}:${port}`, `--config.file=${bbCfg}`, '--log.level=warn'],
            port,
            ready: (res) => res.status === 200,
          };
        }),
      );
    } else {
      peerNote = BLACKBOX_MISSING;
    }
    const all = await interleaved(contenders);
    const [ours, probe] = all;
    const bare = all.find((s) => s.label === 'node bare http (ref)');
    const peer = all.find((s) => s.label === 'blackbox_exporter');
    if (!ours || !probe || !bare) throw new Error('startup: a contender is missing');

    const rows = all.map((s) => {
      const r = summarize(s.ready);
      return [
        s.label,
        r.count,
        ...statCells(r, ['min', 'p50', 'max'], 1),
        s.cpu.length ? fmt(summarize(s.cpu).p50, 0) : '-',
        s.stop.length ? fmt(summarize(s.stop).p50, 1) : '-',
        s.exits.join(','),
      ];
    });
    const notes = [
      'spawn -> first GET /metrics with 200 (vantage: body contains agent="), polled every 2 ms; ' +
        `${CHECKS} tcp checks against a 127.0.0.1 listener`,
      'cpu = user + system CPU of the process at ready (/proc, 10 ms ticks), median: steadier than wall time',
      'stop = SIGTERM -> process exit (graceful shutdown); exit = exit code or signal seen',
      '"node bare http (ref)" is a one-line Node HTTP server: the floor any Node agent pays',
      `vantage probe tcp: spawn -> exit of one TCP check to the same listener; Node ${process.version}`,
    ];
    if (BASE) notes.push(`--base build: ${BASE}, started in turn with ${BIN}`);
    if (peerNote) notes.push(peerNote);
    return {
      title: `startup: spawn -> /metrics ready; probe tcp spawn -> exit (${RUNS} runs each, Node ${process.version})`,
      sections: [
        {
          headers: ['process', 'runs', 'min ms', 'median ms', 'max ms', 'cpu p50 ms', 'stop p50 ms', 'exit'],
          rows,
          notes,
        },
      ],
      raw: {
        runs: RUNS,
        checks: CHECKS,
        node: process.version,
        probe_tcp: { wallMs: probe.ready, summary: rounded(summarize(probe.ready)), exits: probe.exits },
        vantage: {
          readyMs: ours.ready,
          cpuMs: ours.cpu,
          stopMs: ours.stop,
          summary: rounded(summarize(ours.ready)),
          exits: ours.exits,
        },
        ...(BASE ? { base: { bin: BASE, starts: all.filter((s) => s.label.includes('--base')) } } : {}),
        node_bare_http: {
          readyMs: bare.ready,
          stopMs: bare.stop,
          summary: rounded(summarize(bare.ready)),
          exits: bare.exits,
        },
        blackbox_exporter: peer
          ? { readyMs: peer.ready, stopMs: peer.stop, summary: rounded(summarize(peer.ready)), exits: peer.exits }
          : { skipped: peerNote },
      },
    };
  } finally {
    await new Promise((r) => target.close(() => r(undefined)));
    removeTempDir(dir);
  }
}

/**
 * bench/startup.mjs's line in the suite's summary (bench/run.mjs): median start-up next to
 * blackbox_exporter's.
 * @param {Awaited<ReturnType<typeof run>>['raw']} s
 * @returns {Cell[][]}
 */
export function headline(s) {
  const bb = 'summary' in s.blackbox_exporter ? s.blackbox_exporter.summary : undefined;
  return [
    [
      'startup: spawn -> /metrics ready, median ms',
      fmt(s.vantage.summary.p50, 1),
      bb ? fmt(bb.p50, 1) : 'not installed',
      'blackbox_exporter',
    ],
    ['startup: vantage probe tcp, spawn -> exit, median ms', fmt(s.probe_tcp.summary.p50, 1), '-', '-'],
  ];
}

await runStandalone(import.meta.url, run);
