import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Clock } from '../clock.js';

/** A turn of the event loop with no callbacks to run takes tens of microseconds here. */
const QUIET_TURN_NS = 150_000n;
const QUIET_TURNS = 2;
/** A bound, so a loop that is never quiet (an agent's busy one) costs a few milliseconds at most. */
const MAX_TURNS = 40;

/**
 * Resolves once the event loop has turned QUIET_TURNS times in a row without work in between (each
 * turn under QUIET_TURN_NS), or after MAX_TURNS. A warm-up's exchange is over before its sockets'
 * teardown is (the peer's FIN, close callbacks, the HTTP agent's bookkeeping): left to the first
 * timed run, that teardown ran between its stamps (a CPU profile of `probe dns NAME`: 1.2-1.5 ms
 * for a system-resolver lookup that takes 0.3 ms once the loop is idle).
 */
export async function untilLoopQuiet(clock: Clock): Promise<void> {
  let quiet = 0;
  for (let turn = 0; turn < MAX_TURNS && quiet < QUIET_TURNS; turn++) {
    const startNs = clock.monotonicNs();
    await nextTurn();
    quiet = clock.monotonicNs() - startNs < QUIET_TURN_NS ? quiet + 1 : 0;
  }
}
