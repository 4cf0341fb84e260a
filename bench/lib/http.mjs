// @ts-check
// Loopback addresses, ports and HTTP polling: the benchmarks only talk to 127.0.0.0/8 from here.
import { request } from 'node:http';
import { createServer } from 'node:net';
import { errorCode } from './errors.mjs';

/** @import { Agent } from 'node:http' */
/** @import { AddressInfo } from 'node:net' */
/** @import { TrackedChild } from './proc.mjs' */

export const LOOPBACK = '127.0.0.1';

/**
 * curl's arguments for one timed request whose body is thrown away: no proxy from the environment
 * (the targets are local or in the lab), 5 s at most. Callers add -s or -sS, their -w and the URL.
 */
export const CURL_TIMED = ['-o', '/dev/null', '--noproxy', '*', '--max-time', '5'];

/**
 * The i-th distinct loopback address: 127.1.0.1, 127.1.0.2, ... (host parts 0 and 255 skipped).
 * @param {number} i
 */
export function loopbackTarget(i) {
  const block = Math.floor(i / 254);
  return `127.${1 + (block >> 8)}.${block & 255}.${1 + (i % 254)}`;
}

/**
 * Resolves after `ms` milliseconds.
 * @param {number} ms
 * @returns {Promise<void>}
 */
export const delay = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A port that was free a moment ago on 127.0.0.1 (bind to 0, read it, close).
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, LOOPBACK, () => {
      const { port } = /** @type {AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

/**
 * One GET on 127.0.0.1 (without keep-alive unless an agent is given); rejects on a socket error.
 * @param {number} port
 * @param {string} path
 * @param {Agent | false} [agent]
 * @returns {Promise<{ status: number | undefined, body: string }>}
 */
export function httpGet(port, path, timeoutMs = 2000, agent = false) {
  return new Promise((resolve, reject) => {
    const req = request({ host: LOOPBACK, port, path, method: 'GET', agent, timeout: timeoutMs }, (res) => {
      /** @type {Buffer[]} */
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Polls GET `path` every `intervalMs` until `ready(res)` or `timeoutMs`; throws on timeout or
 * when `child` exits first. Returns the response that satisfied `ready`.
 * @param {{
 *   port: number, path: string, ready: (res: { status: number | undefined, body: string }) => boolean,
 *   timeoutMs: number, intervalMs?: number, child?: TrackedChild,
 * }} options
 */
export async function pollHttp({ port, path, ready, timeoutMs, intervalMs = 2, child }) {
  const deadline = performance.now() + timeoutMs;
  let last = 'no answer';
  while (performance.now() < deadline) {
    if (child && child.exitCode !== null)
      throw new Error(`process exited (code ${child.exitCode}) before ${path} was ready`);
    if (child && child.signalCode !== null)
      throw new Error(`process was killed (${child.signalCode}) before ${path} was ready`);
    try {
      const res = await httpGet(port, path, 1000);
      if (ready(res)) return res;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = errorCode(err);
    }
    await delay(intervalMs);
  }
  throw new Error(`${path} on port ${port} not ready after ${timeoutMs} ms (last: ${last})`);
}
