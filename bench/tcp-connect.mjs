// TCP connect timing on 127.0.0.1: NodeTcpConnector (what the tcp check uses) vs curl's
// %{time_connect}, both against the same local listener; plus `vantage probe tcp` end to end.
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import {
  fmt,
  installed,
  LOOPBACK,
  loadDist,
  rounded,
  runStandalone,
  spawnTracked,
  stopChild,
  summarize,
  VANTAGE_BIN,
} from './lib.mjs';

const CONNECTS = 200;
const WARMUP = 5;
const CLI_RUNS = 10;
const execFileP = promisify(execFile);

/** Accepts; answers the first bytes with a minimal HTTP response and closes (so curl finishes). */
async function startListener() {
  const sockets = new Set();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    sock.once('data', () => sock.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, resolve);
  });
  const close = () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return { port: server.address().port, close };
}

async function nodeConnector(port) {
  const { NodeTcpConnector } = await loadDist('net/tcp-connector.js');
  const { systemClock } = await loadDist('clock.js');
  const connector = new NodeTcpConnector(systemClock);
  const us = [];
  for (let i = 0; i < WARMUP + CONNECTS; i++) {
    const { startNs, connectedNs } = await connector.connect({ ip: LOOPBACK, port, signal: AbortSignal.timeout(2000) });
    if (i >= WARMUP) us.push(Number(connectedNs - startNs) / 1e3);
  }
  return us;
}

/** curl's time_connect (seconds, microsecond resolution), one process per connect. */
async function curl(port) {
  const us = [];
  const args = [
    '-s',
    '-o',
    '/dev/null',
    '--noproxy',
    '*',
    '--max-time',
    '5',
    '-w',
    '%{time_connect}',
    `http://${LOOPBACK}:${port}/`,
  ];
  for (let i = 0; i < WARMUP + CONNECTS; i++) {
    const { stdout } = await execFileP('curl', args, { timeout: 10_000 });
    const seconds = Number.parseFloat(stdout);
    if (!Number.isFinite(seconds)) throw new Error(`curl printed "${stdout}"`);
    if (i >= WARMUP) us.push(seconds * 1e6);
  }
  return us;
}

/** `vantage probe tcp 127.0.0.1:PORT --json`: wall time per process, and the connectMs it reports. */
async function cliProbe(port) {
  const wallMs = [];
  const reportedUs = [];
  const durationMs = [];
  /** durationMs - (resolve + connect phases): time inside the run that no phase accounts for. */
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

    const row = (label, us) => {
      const s = summarize(us);
      return [label, s.count, fmt(s.min, 1), fmt(s.p50, 1), fmt(s.p99, 1), fmt(s.mean, 1), fmt(s.max, 1)];
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
    return {
      title: `tcp-connect: ${CONNECTS} sequential connects to a 127.0.0.1 listener (after ${WARMUP} warm-up)`,
      sections: [
        {
          headers: ['client', 'n', 'min us', 'p50 us', 'p99 us', 'mean us', 'max us'],
          rows,
          notes: [
            'vantage: process.hrtime stamps around socket.connect() -> "connect" event (includes a process.nextTick and one loop turn)',
            "curl: its own connect timer (one curl process per connect, --noproxy '*'); the listener answers a minimal HTTP response and closes",
          ],
        },
        {
          heading: `vantage CLI end to end: \`vantage probe tcp ${LOOPBACK}:PORT --json\`, ${CLI_RUNS} runs (process start-up dominated)`,
          headers: ['measure', 'n', 'p50', 'min', 'max'],
          rows: [
            ['wall time, ms', cliWall.count, fmt(cliWall.p50, 1), fmt(cliWall.min, 1), fmt(cliWall.max, 1)],
            [
              'connectMs it reports, us',
              cliReported.count,
              fmt(cliReported.p50, 1),
              fmt(cliReported.min, 1),
              fmt(cliReported.max, 1),
            ],
            [
              'durationMs it reports, ms',
              cliDuration.count,
              fmt(cliDuration.p50, 3),
              fmt(cliDuration.min, 3),
              fmt(cliDuration.max, 3),
            ],
            [
              '  of which in no phase, ms',
              cliUnaccounted.count,
              fmt(cliUnaccounted.p50, 3),
              fmt(cliUnaccounted.min, 3),
              fmt(cliUnaccounted.max, 3),
            ],
          ],
          notes: [
            'wall time = spawn -> exit of a fresh node process; almost all of it is Node start-up and module loading, not the probe',
            'connectMs it reports is the first timed connect of a fresh process; NodeTcpConnector first makes an untimed warm-up connect to a loopback listener of its own (cold code paths were ~2 ms before it): compare with the in-process p50 above',
            '"in no phase" = durationMs - (resolve + connect): run time the phases do not explain (e.g. the warm-up, which runs between resolve and the timed connect)',
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

await runStandalone(import.meta.url, run);
