import { describe, expect, it } from 'vitest';
import { setProbeThreadNice } from '../../src/agent/probe-thread-priority.js';
import type { ThreadNice } from '../../src/agent/probe-thread-priority.js';

/** A thread whose nice may be raised freely and lowered only when `privileged`, as the kernel allows. */
function fakeThread(nice: number, privileged: boolean): ThreadNice & { sets: number[] } {
  const sets: number[] = [];
  return {
    sets,
    get: () => nice,
    set(want) {
      sets.push(want);
      if (want < nice && !privileged) {
        throw Object.assign(new Error('A system error occurred: uv_os_setpriority returned EACCES'), {
          code: 'ERR_SYSTEM_ERROR',
          info: { code: 'EACCES' },
        });
      }
      nice = want;
    },
  };
}

describe('setProbeThreadNice', () => {
  it('sets a lower nice when allowed and reports the nice read back', () => {
    const thread = fakeThread(0, true);
    expect(setProbeThreadNice(-10, thread)).toEqual({ nice: -10 });
    expect(thread.get()).toBe(-10);
  });

  it('keeps the nice it has when refused, naming the system error and both fixes', () => {
    const thread = fakeThread(0, false);
    const result = setProbeThreadNice(-10, thread);
    expect(result.nice).toBe(0);
    expect(result.denied?.code).toBe('PROBE_THREAD_NICE_DENIED');
    expect(result.denied?.message).toMatch(/^probe_thread_nice -10 not applied \(EACCES\)/);
    expect(result.denied?.message).toMatch(/CAP_SYS_NICE/);
    expect(result.denied?.message).toMatch(/set probe_thread_nice: 0 /);
  });

  it('raises the nice without privilege, and asks nothing when the thread is there already', () => {
    const thread = fakeThread(0, false);
    expect(setProbeThreadNice(5, thread)).toEqual({ nice: 5 });
    expect(setProbeThreadNice(5, thread)).toEqual({ nice: 5 });
    expect(thread.sets).toEqual([5]);
  });
});
