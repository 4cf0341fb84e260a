import { Worker } from 'node:worker_threads';
import { abortFailure, CheckFailure } from '../../errors.js';
import { HttpsFailure } from './https-failure.js';
import type { HttpsExchange, HttpsRequest } from './https-exchange.js';
import { abortToWire, exchangeFromWire, failureFromWire, requestToWire } from './https-wire.js';
import type { FromWorker, ToWorker } from './https-wire.js';

/**
 * After a cancel, how long the worker has to answer before the exchange fails here anyway: the
 * worker answers within a turn of its loop (it closes the sockets and reports the phase it was in).
 */
const CANCEL_GRACE_MS = 2_000;

/**
 * The worker's young generation. Left at V8's default (16 MB semi-spaces, as the agent's own) the
 * worker added 51 MB to an agent of 1,000 HTTPS checks; what an exchange allocates dies young, and
 * a smaller space is collected sooner and faster.
 */
const WORKER_YOUNG_GENERATION_MB = 8;

interface Pending {
  resolve: (exchange: HttpsExchange) => void;
  reject: (err: Error) => void;
}

/**
 * HttpsClient's exchanges done on a worker thread of its own (https-worker.ts), for the agent:
 * a TLS handshake costs the calling thread a few hundred microseconds of CPU at each end of it (the
 * key share, the chain's parse for the name check, encryption), and at 100 HTTPS runs a second that
 * was a third of a core, taken from the thread that starts every other run on time. The worker
 * stamps the phases (the monotonic clock is the process's); only the result crosses back. Started
 * on first use; a worker that dies fails the exchanges it held (INTERNAL) and the next one starts
 * another. It never keeps the process alive.
 */
export class HttpsWorkerClient {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  /** `script`: the worker's module (dist/net/http/https-worker.js next to this one by default). */
  constructor(private readonly script: URL = new URL('./https-worker.js', import.meta.url)) {}

  /** Settles once the worker's own loopback warm-up is done (HttpsClient.warmed, there). */
  get warmed(): Promise<void> {
    this.started();
    return this.ready ?? Promise.resolve();
  }

  exchange(req: HttpsRequest): Promise<HttpsExchange> {
    const worker = this.started();
    const id = this.nextId++;
    return new Promise<HttpsExchange>((resolve, reject) => {
      let grace: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        this.post(worker, { op: 'cancel', id, why: abortToWire(req.signal) });
        grace = setTimeout(() => {
          this.settle(id)?.reject(
            new HttpsFailure(
              abortFailure(
                req.signal,
                'connect',
                { code: 'HTTP_TIMEOUT', message: `the HTTPS worker did not answer a cancel of ${req.url.href}` },
                `request to ${req.url.href} was cancelled`,
              ),
              {},
              null,
            ),
          );
        }, CANCEL_GRACE_MS);
        grace.unref();
      };
      this.pending.set(id, {
        resolve: (exchange) => {
          clearTimeout(grace);
          req.signal.removeEventListener('abort', onAbort);
          resolve(exchange);
        },
        reject: (err) => {
          clearTimeout(grace);
          req.signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      });
      this.post(worker, { op: 'exchange', id, request: requestToWire(req) });
      if (req.signal.aborted) onAbort();
      else req.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Ends the worker; exchanges in flight fail as cancelled. */
  close(): void {
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    this.failAll(new CheckFailure('ABORTED', 'the HTTPS worker was closed', 'connect'));
    void worker?.terminate();
  }

  private post(worker: Worker, message: ToWorker): void {
    worker.postMessage(message);
  }

  private settle(id: number): Pending | undefined {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    return pending;
  }

  private failAll(failure: CheckFailure): void {
    const held = [...this.pending.values()];
    this.pending.clear();
    for (const pending of held) pending.reject(new HttpsFailure(failure, {}, null));
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.script, {
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    worker.unref();
    let markReady: () => void = () => undefined;
    this.ready = new Promise<void>((resolve) => (markReady = resolve));
    worker.on('message', (message: FromWorker) => {
      if (message.op === 'ready') markReady();
      else if (message.op === 'exchanged') this.settle(message.id)?.resolve(exchangeFromWire(message.exchange));
      else this.settle(message.id)?.reject(failureFromWire(message.failure));
    });
    const died = (why: string): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.ready = undefined;
      markReady();
      this.failAll(
        new CheckFailure('INTERNAL', `the HTTPS worker stopped (${why}); the next run starts a new one`, 'connect'),
      );
    };
    worker.on('error', (err) => died(err.message));
    worker.on('exit', (code) => died(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }
}
