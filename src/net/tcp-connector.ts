import { createServer, Socket } from 'node:net';
import type { Clock } from '../clock.js';
import { abortFailure, CheckFailure } from '../errors.js';
import type { FailureCode } from '../errors.js';
import { hostPort } from './address.js';
import { connectStamped } from './connect-stamped.js';
import { localResourceFailure } from './local-resource.js';
import { establishedNs } from './tcp-info.js';
import type { TcpConnectRequest, TcpConnectTiming, TcpConnector } from './net-deps.js';

const FAILURE_BY_ERRNO: Record<string, FailureCode> = {
  ECONNREFUSED: 'TCP_REFUSED',
  ETIMEDOUT: 'TCP_TIMEOUT',
  EHOSTUNREACH: 'TCP_UNREACHABLE',
  ENETUNREACH: 'TCP_UNREACHABLE',
  ECONNRESET: 'TCP_RESET',
};

/**
 * Node's own sockets, connecting to an IP literal so no hidden lookup happens inside the timed
 * phase. The connection is destroyed as soon as it is up: the check measures the handshake only,
 * and every path (success, error, abort) releases the socket.
 */
export class NodeTcpConnector implements TcpConnector {
  private warming: Promise<void> | undefined;

  constructor(private readonly clock: Clock) {}

  /**
   * The first connect of a process runs cold code inside the timed section (about 2 ms instead of
   * 0.2 on loopback): paid once, on a loopback connection of our own, so it is not timed. Started by
   * system-net's `ready()` (an agent asks once it serves /metrics: a warm-up begun at creation ran
   * before the config was read, on the way to the listener) or else by the first connect.
   */
  warm(): Promise<void> {
    return (this.warming ??= warmUp());
  }

  async connect(req: TcpConnectRequest): Promise<TcpConnectTiming> {
    await this.warm();
    return this.connectOnce(req);
  }

  private connectOnce(req: TcpConnectRequest): Promise<TcpConnectTiming> {
    const { ip, port, signal } = req;
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(connectAborted(ip, port, signal));
        return;
      }
      const socket = new Socket();
      const finish = (): void => {
        signal.removeEventListener('abort', onAbort);
        socket.removeAllListeners();
        socket.on('error', () => undefined);
        socket.destroy();
      };
      const onAbort = (): void => {
        finish();
        reject(connectAborted(ip, port, signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => {
        const connectedNs = establishedNs(socket, startNs, this.clock.monotonicNs());
        finish();
        resolve({ startNs, connectedNs });
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        finish();
        const code = FAILURE_BY_ERRNO[err.code ?? ''] ?? 'TCP_ERROR';
        reject(
          localResourceFailure(err, `connect to ${hostPort(ip, port)}`, 'connect') ??
            new CheckFailure(code, `connect to ${hostPort(ip, port)} failed: ${err.code ?? err.message}`, 'connect', {
              cause: err,
            }),
        );
      });
      let startNs = this.clock.monotonicNs();
      connectStamped(
        socket,
        { host: ip, port, ...(req.sourceAddress ? { localAddress: req.sourceAddress } : {}) },
        () => {
          startNs = this.clock.monotonicNs();
        },
      );
    });
  }
}

/** One connection to a throw-away listener on 127.0.0.1; failures are ignored (it is only a warm-up). */
async function warmUp(): Promise<void> {
  const server = createServer((s) => s.destroy());
  try {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => {
        establishedNs(socket, 0n, 0n); // loads the TCP_INFO addon outside any run
        socket.destroy();
      });
      socket.once('close', () => resolve());
      socket.once('error', () => resolve());
      socket.connect(port, '127.0.0.1');
    });
  } catch {
    // No loopback: the first measurement is merely a little slow.
  } finally {
    server.close();
  }
}

function connectAborted(ip: string, port: number, signal: AbortSignal): CheckFailure {
  return abortFailure(
    signal,
    'connect',
    { code: 'TCP_TIMEOUT', message: `no answer from ${hostPort(ip, port)} before the timeout` },
    `connect to ${hostPort(ip, port)} was cancelled`,
  );
}
