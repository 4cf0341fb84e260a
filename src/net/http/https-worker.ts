import { parentPort } from 'node:worker_threads';
import { systemClock } from '../../clock.js';
import { HttpsClient } from './https-client.js';
import { abortFromWire, failureToWire, requestFromWire } from './https-wire.js';
import type { FromWorker, ToWorker } from './https-wire.js';

// The HTTPS worker's thread (https-worker-client.ts starts it): the same client as in-process,
// stamping every phase on this thread, where the TLS handshakes' CPU no longer delays the agent's
// other runs. One AbortController per exchange in flight; a cancel aborts it with the run's reason.

const port = parentPort;
if (!port) throw new Error('https-worker.js runs as a worker thread (https-worker-client.ts starts it)');

const client = new HttpsClient(systemClock);
const inFlight = new Map<number, AbortController>();
const post = (message: FromWorker): void => port.postMessage(message);

void client.warmed.then(() => post({ op: 'ready' }));

port.on('message', (message: ToWorker) => {
  if (message.op === 'cancel') {
    inFlight.get(message.id)?.abort(abortFromWire(message.why));
    return;
  }
  const { id, request } = message;
  const controller = new AbortController();
  inFlight.set(id, controller);
  client.exchange(requestFromWire(request, controller.signal)).then(
    (exchange) => {
      inFlight.delete(id);
      post({ op: 'exchanged', id, exchange });
    },
    (err: unknown) => {
      inFlight.delete(id);
      post({ op: 'failed', id, failure: failureToWire(err) });
    },
  );
});
