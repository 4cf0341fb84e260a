import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * A long computation written once as a generator that yields where it may pause (between chunks
 * of text, between targets). `runNow` runs it to the end in one go (validate, once, tests);
 * `runPaced` gives the event loop a turn whenever a stretch has taken `budgetMs`, so a reload of a
 * large config in a running agent never holds probes' timers and sockets for long.
 */
export type Steps<T> = Generator<void, T, void>;

/** Runs `steps` to the end without pausing. */
export function runNow<T>(steps: Steps<T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

export interface PaceOptions {
  /** Longest stretch between two turns of the event loop, plus one step. Default 10 ms. */
  budgetMs?: number;
  /** Stops at the next pause with the signal's reason (shutdown). */
  signal?: AbortSignal;
}

/**
 * Runs `steps`, yielding to the event loop whenever a stretch has used the budget. It starts on a
 * turn of its own, so it never extends the stretch of whatever ran before it.
 */
export async function runPaced<T>(steps: Steps<T>, opts: PaceOptions = {}): Promise<T> {
  const budgetMs = opts.budgetMs ?? 10;
  await nextTurn();
  let since = performance.now();
  for (;;) {
    opts.signal?.throwIfAborted();
    const step = steps.next();
    if (step.done) return step.value;
    if (performance.now() - since >= budgetMs) {
      await nextTurn();
      since = performance.now();
    }
  }
}
