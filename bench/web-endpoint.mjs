// @ts-check
// The agent's endpoints behind one exporter-toolkit web config (TLS + bcrypt basic auth), beside
// blackbox_exporter behind the same file: a fresh TLS connection per request, timed from connect to
// the end of the answer. Right password (a cached verdict), wrong passwords and unknown users (a
// bcrypt each, never cached since each is new): the last two must take the same time, or timing
// would tell which user names exist.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { BLACKBOX, BLACKBOX_MISSING } from './lib/blackbox.mjs';
import { loadDist, VANTAGE_BIN } from './lib/dist.mjs';
import { freePort, LOOPBACK } from './lib/http.mjs';
import { installed, makeTempDir, removeTempDir, spawnTracked, stopChild } from './lib/proc.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { rounded, summarize } from './lib/stats.mjs';
import { statCells } from './lib/table.mjs';

/** @import { Cell } from './lib/table.mjs' */

const REQUESTS = 30;
const PASSWORD = 'bench-s3cret';
/** bcrypt cost of the user's hash: htpasswd's and exporter-toolkit's usual. */
const COST = 10;

/** @param {string} dir */
function makeCerts(dir) {
  const p = (/** @type {string} */ f) => join(dir, f);
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ssl = (/** @type {string[]} */ args) => execFileSync('openssl', args, { stdio: 'ignore' });
  ssl(['req', '-x509', ...key, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '1', '-subj', '/CN=bench-ca']);
  ssl(['req', '-new', ...key, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=localhost']);
  writeFileSync(p('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl(
    ['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial'].concat([
      '-days',
      '1',
      '-extfile',
      p('san.ext'),
      '-out',
      p('server.pem'),
    ]),
  );
  return readFileSync(p('ca.pem'));
}

/**
 * Milliseconds from the request's start (a new TLS connection) to the end of its answer; the status.
 * @param {number} port
 * @param {string} path
 * @param {Buffer} ca
 * @param {string} auth
 * @returns {Promise<{ ms: number, status: number }>}
 */
function timedGet(port, path, ca, auth) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ host: LOOPBACK, port, path, ca, auth, agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ms: performance.now() - t0, status: res.statusCode ?? 0 }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * REQUESTS sequential requests per kind of credentials; the status each kind must get.
 * @param {number} port
 * @param {string} path
 * @param {Buffer} ca
 */
async function measure(port, path, ca) {
  const first = await timedGet(port, path, ca, `prom:${PASSWORD}`);
  /** @type {Record<string, { expect: number, auth: (i: number) => string }>} */
  const kinds = {
    'right password (cached)': { expect: 200, auth: () => `prom:${PASSWORD}` },
    'wrong password (new each)': { expect: 401, auth: (i) => `prom:wrong-${i}` },
    'unknown user (new each)': { expect: 401, auth: (i) => `nobody-${i}:wrong-${i}` },
  };
  /** @type {Record<string, number[]>} */
  const ms = {};
  for (const [kind, { expect, auth }] of Object.entries(kinds)) {
    ms[kind] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const r = await timedGet(port, path, ca, auth(i));
      if (r.status !== expect) throw new Error(`${kind}: HTTP ${r.status}, expected ${expect}`);
      ms[kind].push(r.ms);
    }
  }
  if (first.status !== 200) throw new Error(`first request: HTTP ${first.status}`);
  return { firstMs: first.ms, ms };
}

/**
 * The event loop's delay (ms, max and p99) while `work` runs, sampled every millisecond.
 * @param {() => Promise<unknown>} work
 */
async function loopDelayDuring(work) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await work();
  h.disable();
  return { maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 };
}

/**
 * How long the event loop stalls while CHECKS wrong passwords are checked: by the agent's
 * BasicAuth (bcrypt on a worker thread) and by bcryptjs's own asynchronous compare on the loop.
 * @param {string} hash
 */
async function loopStalls(hash) {
  const CHECKS = 10;
  const { BasicAuth } = await loadDist('web/basic-auth.js');
  const { default: bcrypt } = await import('bcryptjs');
  const auth = new BasicAuth();
  const users = new Map([['prom', hash]]);
  const header = (/** @type {number} */ i) => `Basic ${Buffer.from(`prom:wrong-${i}`).toString('base64')}`;
  const worker = await loopDelayDuring(() =>
    Promise.all(Array.from({ length: CHECKS }, (_, i) => auth.check(users, header(i)))),
  );
  const onLoop = await loopDelayDuring(async () => {
    for (let i = 0; i < CHECKS; i++) await bcrypt.compare(`wrong-${i}`, hash);
  });
  return { checks: CHECKS, worker, onLoop };
}

/**
 * @param {string} dir
 * @param {string} webFile
 */
async function vantage(dir, webFile) {
  const port = await freePort();
  const config = join(dir, 'vantage.yaml');
  writeFileSync(config, `targets:\n  - {name: lo, host: ${LOOPBACK}, checks: [{kind: tcp, port: ${port}}]}\n`);
  const child = spawnTracked(process.execPath, [
    VANTAGE_BIN,
    'run',
    '-c',
    config,
    '--listen',
    `${LOOPBACK}:${port}`,
    '--web.config.file',
    webFile,
    '--log-level',
    'warn',
  ]);
  return { port, child, path: '/healthz' };
}

/**
 * @param {string} dir
 * @param {string} webFile
 */
async function blackbox(dir, webFile) {
  const port = await freePort();
  const config = join(dir, 'blackbox.yml');
  writeFileSync(config, 'modules:\n  tcp: {prober: tcp}\n');
  const child = spawnTracked(BLACKBOX, [
    `--config.file=${config}`,
    `--web.listen-address=${LOOPBACK}:${port}`,
    `--web.config.file=${webFile}`,
    '--log.level=warn',
  ]);
  return { port, child, path: '/-/healthy' };
}

/**
 * Waits until the server answers over TLS (any status).
 * @param {number} port
 * @param {Buffer} ca
 */
async function ready(port, ca) {
  const deadline = performance.now() + 15_000;
  for (;;) {
    try {
      return await timedGet(port, '/', ca, 'x:y');
    } catch (err) {
      if (performance.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export async function run() {
  const dir = makeTempDir('vantage-bench-web-');
  try {
    const ca = makeCerts(dir);
    const { default: bcrypt } = await import('bcryptjs');
    const webFile = join(dir, 'web.yml');
    const hash = bcrypt.hashSync(PASSWORD, COST);
    writeFileSync(
      webFile,
      `tls_server_config: {cert_file: server.pem, key_file: server.key}\nbasic_auth_users: {prom: '${hash}'}\n`,
    );
    const stalls = await loopStalls(hash);
    /** @type {Array<[string, Awaited<ReturnType<typeof measure>> | string]>} */
    const results = [];
    for (const [name, start] of /** @type {const} */ ([
      ['vantage', vantage],
      ['blackbox_exporter', blackbox],
    ])) {
      if (name === 'blackbox_exporter' && !(await installed(BLACKBOX))) {
        results.push([name, BLACKBOX_MISSING]);
        continue;
      }
      const server = await start(dir, webFile);
      try {
        await ready(server.port, ca);
        results.push([name, await measure(server.port, server.path, ca)]);
      } finally {
        await stopChild(server.child);
      }
    }
    /** @type {Cell[][]} */
    const rows = [];
    for (const [name, r] of results) {
      if (typeof r === 'string') {
        rows.push([name, r, '-', '-', '-', '-']);
        continue;
      }
      rows.push([name, 'first request (bcrypt, then cached)', 1, r.firstMs.toFixed(1), '-', '-']);
      for (const [kind, ms] of Object.entries(r.ms))
        rows.push([
          name,
          kind,
          ...[summarize(ms)].flatMap((s) => [s.count, ...statCells(s, ['p50', 'p99', 'max'], 1)]),
        ]);
    }
    return {
      title: `web-endpoint: TLS + basic auth (bcrypt cost ${COST}), ${REQUESTS} requests per row, new TLS each`,
      sections: [
        {
          headers: ['server', 'credentials', 'n', 'p50 ms', 'p99 ms', 'max ms'],
          rows,
          notes: [
            'vantage GET /healthz, blackbox_exporter GET /-/healthy: both behind the same web config file',
            'wrong password and unknown user should take the same time (a bcrypt each; the unknown user ' +
              'against a decoy hash): otherwise timing tells which user names exist',
            'loopback, one request at a time; a shared 2-core machine: expect noise of several ms',
          ],
        },
        {
          heading: `event loop stalls while ${stalls.checks} wrong passwords are checked (in this process)`,
          headers: ['bcrypt runs', 'max stall ms', 'p99 stall ms'],
          rows: [
            ['on a worker thread (the agent)', stalls.worker.maxMs.toFixed(1), stalls.worker.p99Ms.toFixed(1)],
            ["on the loop (bcryptjs's async compare)", stalls.onLoop.maxMs.toFixed(1), stalls.onLoop.p99Ms.toFixed(1)],
          ],
          notes: ['a stall delays every probe timer due in it; bcryptjs yields only every 100 ms'],
        },
      ],
      raw: Object.fromEntries([
        ['loopStalls', stalls],
        ...results.map(([name, r]) => [
          name,
          typeof r === 'string'
            ? { skipped: r }
            : {
                firstMs: r.firstMs,
                ...Object.fromEntries(Object.entries(r.ms).map(([k, v]) => [k, rounded(summarize(v))])),
              },
        ]),
      ]),
    };
  } finally {
    removeTempDir(dir);
  }
}

await runStandalone(import.meta.url, run);
