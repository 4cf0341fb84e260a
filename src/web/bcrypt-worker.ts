import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// bcrypt costs tens of milliseconds of CPU per check by design, and bcryptjs's asynchronous API
// still runs on the calling thread in slices of up to 100 ms: a stream of wrong passwords would
// then delay every probe's timers. One worker thread does them instead, one at a time in arrival
// order (as exporter-toolkit holds a mutex around bcrypt), and the event loop stays the probes'. It
// runs at nice 19 (its thread's own): on a busy host a flood of passwords waits, not the probes.

/** The worker's script: plain CommonJS, evaluated, so it runs from sources and from dist/ alike. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { setPriority } = require('node:os');
const bcrypt = require(workerData.bcryptjs);
// Background work: made by the agent's thread, it would run at that thread's raised priority.
setPriority(19);
parentPort.on('message', (m) => {
  try {
    const value = m.op === 'hash' ? bcrypt.hashSync(m.password, m.cost) : bcrypt.compareSync(m.password, m.hash);
    parentPort.postMessage({ id: m.id, value });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String(err) });
  }
});
`;

type Request = { op: 'compare'; password: string; hash: string } | { op: 'hash'; password: string; cost: number };
interface Reply {
  id: number;
  value?: boolean | string;
  error?: string;
}

/** bcrypt on a worker thread of its own, started on first use; it never keeps the process alive. */
export class BcryptWorker {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: boolean | string) => void; reject: (e: Error) => void }>();

  compare(password: string, hash: string): Promise<boolean> {
    return this.send({ op: 'compare', password, hash }) as Promise<boolean>;
  }

  hash(password: string, cost: number): Promise<string> {
    return this.send({ op: 'hash', password, cost }) as Promise<string>;
  }

  private send(request: Request): Promise<boolean | string> {
    const worker = this.started();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const bcryptjs = createRequire(import.meta.url).resolve('bcryptjs');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptjs } });
    worker.on('message', (reply: Reply) => {
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.error !== undefined || reply.value === undefined)
        waiting?.reject(new Error(reply.error ?? 'no answer'));
      else waiting?.resolve(reply.value);
    });
    // A worker that dies fails what it held; the next check starts a new one.
    const fail = (err: Error): void => {
      this.worker = undefined;
      for (const waiting of this.pending.values()) waiting.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the bcrypt worker exited with code ${code}`)));
    // After the listeners: a 'message' listener added later refs the worker again.
    worker.unref();
    this.worker = worker;
    return worker;
  }
}
