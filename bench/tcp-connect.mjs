// @ts-check
// TCP connect timing on 127.0.0.1: NodeTcpConnector (what the tcp check uses) vs curl's
// %{time_connect}, both against the same local listener; plus `vantage probe tcp` end to end.
import { createServer } from 'node:net';
import { loadDist, VANTAGE_BIN } from './lib/dist.mjs';
import { CURL_TIMED, LOOPBACK } from './lib/http.mjs';
import { execFileP, installed, spawnTracked, stopChild } from './lib/proc.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { rounded, summarize } from './lib/stats.mjs';
import { fmt, statCells } from './lib/table.mjs';

/** @import { AddressInfo, Socket } from 'node:net' */
/** @import { Cell } from './lib/table.mjs' */
/** @import { Summary } from './lib/stats.mjs' */

const CONNECTS = 200;
const WARMUP = 5;
const CLI_RUNS = 10;

/** Accepts; answers the first bytes with a minimal HTTP response and closes (so curl finishes). */
async function startListener() {
  /** @type {Set<Socket>} */
  const sockets = new Set();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    sock.once('data', () => sock.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve(undefined));
  });
  /** @returns {Promise<void>} */
  const close = () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return { port: /** @type {AddressInfo} */ (server.address()).port, close };
}

/**
 * CONNECTS timed connects with NodeTcpConnector (after WARMUP untimed ones), in us.
 * @param {number} port
 */
async function nodeConnector(port) {
  const { NodeTcpConnector } = await loadDist('net/tcp-connector.js');
  const { systemClock } = await loadDist('clock.js');
  const connector = new NodeTcpConnector(systemClock);
  /** @type {number[]} */
  const us = [];
  for (let i = 0; i < WARMUP + CONNECTS; i++) {
    /** @type {{ startNs: bigint, connectedNs: bigint }} */
    const { startNs, connectedNs } = await connector.connect({ ip: LOOPBACK, port, signal: AbortSignal.timeout(2000) });
    if (i >= WARMUP) us.push(Number(connectedNs - startNs) / 1e3);
  }
  return us;
}

/**
 * curl's time_connect (seconds, microsecond resolution), one process per connect.
 * @param {number} port
 */
async function curl(port) {
  /** @type {number[]} */
  const us = [];
  const args = ['-s', ...CURL_TIMED, '-w', '%{time_connect}', `http://${LOOPBACK}:${port}/`];
  for (let i = 0; i < WARMUP + CONNECTS; i++) {
    const { stdout } = await execFileP('curl', args, { timeout: 10_000 });
    const seconds = Number.parseFloat(stdout);
    if (!Number.isFinite(seconds)) throw new Error(`curl printed "${stdout}"`);
    if (i >= WARMUP) us.push(seconds * 1e6);
  }
  return us;
}

/**
 * `vantage probe tcp 127.0.0.1:PORT --json`: wall time per process, and the connectMs it reports.
 * @param {number} port
 */
async function cliProbe(port) {
  /** @type {number[]} */
  const wallMs = [];
  /** @type {number[]} */
  const reportedUs = [];
  /** @type {number[]} */
  const durationMs = [];
  /**
   * durationMs - (resolve + connect phases): time inside the run that no phase accounts for.
   * @type {number[]}
   */
  const unaccountedMs = [];
  for (let i = 0; i < CLI_RUNS; i++) {
    const t0 = performance.now();
    const child = spawnTracked(process.execPath, [VANTAGE_BIN, 'probe', 'tcp', `${LOOPBACK}:${port}`, '--json']);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    try {
      const { code, signal } = await child.exited;
      wallMs.push(performance.now() - t0);
      if (code !== 0) throw new Error(`vantage probe exited ${signal ?? code}:\n${child.output()}`);
      const line = child
        .output()
        .split('\n')
        .find((l) => l.startsWith('{'));
      /** @type {{ connectMs?: number, durationMs: number, phasesMs?: Record<string, number> } | undefined} */
      const rec = line ? JSON.parse(line) : undefined;
      if (rec?.connectMs === undefined) throw new Error(`vantage probe printed no connectMs:\n${child.output()}`);
      reportedUs.push(rec.connectMs * 1000);
      durationMs.push(rec.durationMs);
      unaccountedMs.push(rec.durationMs - Object.values(rec.phasesMs ?? {}).reduce((a, b) => a + b, 0));
    } finally {
      clearTimeout(timer);
      await stopChild(child);
    }
  }
  return { wallMs, reportedUs, durationMs, unaccountedMs };
}

export async function run() {
  const listener = await startListener();
  try {
    const ours = await nodeConnector(listener.port);
    const hasCurl = await installed('curl');
    const peer = hasCurl ? await curl(listener.port) : undefined;
    const cli = await cliProbe(listener.port);

    /**
     * @param {string} label
     * @param {number[]} us
     */
    const row = (label, us) => {
      const s = summarize(us);
      return [label, s.count, ...statCells(s, ['min', 'p50', 'p99', 'mean', 'max'], 1)];
    };
    const rows = [row('vantage NodeTcpConnector', ours)];
    rows.push(
      peer
        ? row('curl %{time_connect}', peer)
        : ['curl: not installed (apt-get install curl)', '-', '-', '-', '-', '-', '-'],
    );
    const cliWall = summarize(cli.wallMs);
    const cliReported = summarize(cli.reportedUs);
    const cliDuration = summarize(cli.durationMs);
    const cliUnaccounted = summarize(cli.unaccountedMs);
    /**
     * @param {string} label
     * @param {Summary} s
     */
    const cliRow = (label, s, digits = 1) => [label, s.count, ...statCells(s, ['p50', 'min', 'max'], digits)];
    return {
      title: `tcp-connect: ${CONNECTS} sequential connects to a 127.0.0.1 listener (after ${WARMUP} warm-up)`,
      sections: [
        {
          headers: ['client', 'n', 'min us', 'p50 us', 'p99 us', 'mean us', 'max us'],
          rows,
          notes: [
            "vantage: the kernel's SYN to SYN-ACK time (TCP_INFO tcpi_rtt read at the connect callback, " +
              'native/tcp_info.c); without the addon, process.hrtime from the tick before connect(2) to the ' +
              '"connect" event (one loop turn)',
            "curl: its own connect timer (one curl process per connect, --noproxy '*'); " +
              'the listener answers a minimal HTTP response and closes',
          ],
        },
        {
          heading:
            `vantage CLI end to end: \`vantage probe tcp ${LOOPBACK}:PORT --json\`, ${CLI_RUNS} runs ` +
            '(process start-up dominated)',
          headers: ['measure', 'n', 'p50', 'min', 'max'],
          rows: [
            cliRow('wall time, ms', cliWall),
            cliRow('connectMs it reports, us', cliReported),
            cliRow('durationMs it reports, ms', cliDuration, 3),
            cliRow('  of which in no phase, ms', cliUnaccounted, 3),
          ],
          notes: [
            'wall time = spawn -> exit of a fresh node process; almost all of it is Node start-up and module ' +
              'loading, not the probe',
            'connectMs it reports is the first timed connect of a fresh process; NodeTcpConnector first makes an ' +
              'untimed warm-up connect to a loopback listener of its own (cold code paths were ~2 ms before it): ' +
              'compare with the in-process p50 above',
            '"in no phase" = durationMs - (resolve + connect): run time the phases do not explain ' +
              '(e.g. the warm-up, which runs between resolve and the timed connect)',
          ],
        },
      ],
      raw: {
        connects: CONNECTS,
        vantageConnectUs: rounded(summarize(ours)),
        curlConnectUs: peer ? rounded(summarize(peer)) : { skipped: 'curl not installed' },
        cliProbe: {
          runs: CLI_RUNS,
          wallMs: rounded(cliWall),
          reportedConnectUs: rounded(cliReported),
          reportedDurationMs: rounded(cliDuration),
          unaccountedMs: rounded(cliUnaccounted),
        },
      },
    };
  } finally {
    await listener.close();
  }
}

/**
 * bench/tcp-connect.mjs's lines in the suite's summary (bench/run.mjs): connect time next to
 * curl's, and the CLI's start-up and reported connect.
 * @param {Awaited<ReturnType<typeof run>>['raw']} t
 * @returns {Cell[][]}
 */
export function headline(t) {
  return [
    [
      'tcp connect p50 us (127.0.0.1)',
      fmt(t.vantageConnectUs.p50, 1),
      'p50' in t.curlConnectUs ? fmt(t.curlConnectUs.p50, 1) : 'not installed',
      'curl',
    ],
    ['`vantage probe tcp` wall p50 ms (start-up)', fmt(t.cliProbe.wallMs.p50, 1), '-', '-'],
    [
      '`vantage probe tcp` reported connect p50 us',
      fmt(t.cliProbe.reportedConnectUs.p50, 1),
      fmt(t.vantageConnectUs.p50, 1),
      'in-process p50 (warm)',
    ],
  ];
}

await runStandalone(import.meta.url, run);
