import { Worker } from 'node:worker_threads';
import { CheckFailure } from '../../errors.js';
import { HttpsFailure, stoppedFailure } from './https-failure.js';
import type { HttpsExchange, HttpsRequest } from './https-exchange.js';
import { abortToWire, exchangeFromWire, failureFromWire, requestToWire } from './https-wire.js';
import type { FromWorker, ToWorker } from './https-wire.js';

/**
 * After a cancel, how long the worker has to answer before the exchange fails here anyway: the
 * worker answers within a turn of its loop (it closes the sockets and reports the phase it was in).
 * Longer than the agent's own abandon rule (agent/run-check.ts), so in the agent it is a backstop.
 */
const CANCEL_GRACE_MS = 2_000;

/**
 * The worker's young generation, capped: at V8's default (as large as the agent's own) the worker
 * added 51 MB to an agent of 1,000 HTTPS checks, 24 MB capped at 8 MB. What an exchange allocates
 * dies young.
 */
const WORKER_YOUNG_GENERATION_MB = 8;

/** After a worker died before it was ready (its script missing, say), exchanges fail at once for this long. */
const RESTART_BACKOFF_MS = 5_000;

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
  private markReady: () => void = () => undefined;
  private cannotStart: { untilMs: number; why: string } | undefined;
  /** The current worker has said it is ready. */
  private isReady = false;
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
    if (req.signal.aborted) return Promise.reject(withoutPhases(stoppedFailure(req, 'connect')));
    const worker = this.started();
    if (!worker)
      return Promise.reject(
        withoutPhases(new CheckFailure('INTERNAL', this.cannotStart?.why ?? 'no HTTPS worker', 'connect')),
      );
    const id = this.nextId++;
    return new Promise<HttpsExchange>((resolve, reject) => {
      let grace: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        worker.postMessage({ op: 'cancel', id, why: abortToWire(req.signal) } satisfies ToWorker);
        grace = setTimeout(
          () => this.settle(id)?.reject(withoutPhases(stoppedFailure(req, 'connect'))),
          CANCEL_GRACE_MS,
        );
        grace.unref();
      };
      const done = (): void => {
        clearTimeout(grace);
        req.signal.removeEventListener('abort', onAbort);
      };
      this.pending.set(id, {
        resolve: (exchange) => {
          done();
          // The run's deadline passed before the result reached it: what the in-process client
          // reports when its signal fires, with the phases the worker saw.
          if (req.signal.aborted)
            reject(new HttpsFailure(stoppedFailure(req, 'transfer'), exchange.phasesMs, exchange.tls));
          else resolve(exchange);
        },
        reject: (err) => {
          done();
          reject(err);
        },
      });
      this.holdProcess();
      try {
        worker.postMessage({ op: 'exchange', id, request: requestToWire(req) } satisfies ToWorker);
      } catch (err) {
        // A request that cannot be cloned is a bug; its entry must not stay behind.
        this.settle(id)?.reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      req.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Ends the worker; exchanges in flight fail as cancelled. */
  close(): void {
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    this.markReady();
    this.failAll(new CheckFailure('ABORTED', 'the HTTPS worker was closed', 'connect'));
    void worker?.terminate();
  }

  private settle(id: number): Pending | undefined {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    this.holdProcess();
    return pending;
  }

  /**
   * The worker keeps the process alive while it has work (its warm-up, an exchange), never when idle:
   * a one-shot script that awaits an exchange must not exit under it, an agent must be able to.
   */
  private holdProcess(): void {
    if (this.pending.size > 0 || !this.isReady) this.worker?.ref();
    else this.worker?.unref();
  }

  private failAll(failure: CheckFailure): void {
    const held = [...this.pending.values()];
    this.pending.clear();
    for (const pending of held) pending.reject(withoutPhases(failure));
  }

  /** The running worker, a new one, or none while a worker that died before it was ready backs off. */
  private started(): Worker | undefined {
    if (this.worker) return this.worker;
    if (this.cannotStart && Date.now() < this.cannotStart.untilMs) return undefined;
    const worker = new Worker(this.script, {
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    worker.unref();
    this.isReady = false;
    this.ready = new Promise<void>((resolve) => (this.markReady = resolve));
    worker.on('message', (message: FromWorker) => {
      if (message.op === 'ready') {
        this.isReady = true;
        this.cannotStart = undefined;
        this.markReady();
        this.holdProcess();
      } else if (message.op === 'exchanged') this.settle(message.id)?.resolve(exchangeFromWire(message.exchange));
      else this.settle(message.id)?.reject(failureFromWire(message.failure));
    });
    const died = (why: string): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.ready = undefined;
      this.markReady();
      const message = this.isReady
        ? `the HTTPS worker stopped (${why}); the next run starts a new one`
        : `the HTTPS worker could not start (${why}); another is tried in ${RESTART_BACKOFF_MS / 1000} s`;
      if (!this.isReady) this.cannotStart = { untilMs: Date.now() + RESTART_BACKOFF_MS, why: message };
      this.failAll(new CheckFailure('INTERNAL', message, 'connect'));
    };
    worker.on('error', (err) => died(err.message));
    worker.on('exit', (code) => died(`exit code ${code}`));
    this.worker = worker;
    // After the listeners: adding a 'message' listener refs the worker's port again (an unref before
    // it left a bench unable to exit at its end).
    this.holdProcess();
    return worker;
  }
}

/** A failure of an exchange this thread knows no phase of (it never reached the worker, or its answer did not come). */
function withoutPhases(failure: CheckFailure): HttpsFailure {
  return new HttpsFailure(failure, {}, null);
}
