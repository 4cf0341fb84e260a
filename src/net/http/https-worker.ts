import { parentPort } from 'node:worker_threads';
import { systemClock } from '../../clock.js';
import { untilLoopQuiet } from '../loop-quiet.js';
import { HttpsClient } from './https-client.js';
import type { HttpsExchange } from './https-exchange.js';
import { abortFromWire, failureToWire, requestFromWire } from './https-wire.js';
import type { FromWorker, ToWorker, WireExchange } from './https-wire.js';

// The HTTPS worker's thread (https-worker-client.ts starts it): the same client as in-process,
// stamping every phase on this thread, where the TLS handshakes' CPU no longer delays the agent's
// other runs. One AbortController per exchange in flight; a cancel aborts it with the run's reason.

const port = parentPort;
if (!port) throw new Error('https-worker.js runs as a worker thread (https-worker-client.ts starts it)');

const client = new HttpsClient(systemClock);
// As system-net's ready() does on the agent's thread: the warm-up's sockets are torn down after its
// exchanges end, and that teardown must not run inside the first timed exchange.
const settled = client.warmed.then(() => untilLoopQuiet(systemClock));
const inFlight = new Map<number, AbortController>();

function post(message: FromWorker): void {
  try {
    port?.postMessage(message);
  } catch (err) {
    // Not cloneable (a bug): the exchange still ends, as a failure that says so.
    if (message.op !== 'ready') port?.postMessage({ op: 'failed', id: message.id, failure: failureToWire(err) });
  }
}

/** The body in a buffer of its own: a small one is a view into Node's 8 KB pool, which a clone copies whole. */
function toWire(exchange: HttpsExchange): WireExchange {
  const { body } = exchange;
  const own = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
  return { ...exchange, body: own ? body : new Uint8Array(body) };
}

void settled.then(() => post({ op: 'ready' }));

port.on('message', (message: ToWorker) => {
  if (message.op === 'cancel') {
    inFlight.get(message.id)?.abort(abortFromWire(message.why));
    return;
  }
  const { id, request } = message;
  const controller = new AbortController();
  inFlight.set(id, controller);
  settled
    .then(() => client.exchange(requestFromWire(request, controller.signal)))
    .then(
      (exchange) => post({ op: 'exchanged', id, exchange: toWire(exchange) }),
      (err: unknown) => post({ op: 'failed', id, failure: failureToWire(err) }),
    )
    .finally(() => inFlight.delete(id));
});
