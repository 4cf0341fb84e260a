import { getPriority, setPriority } from 'node:os';

/**
 * The scheduling priority (nice) of the calling thread. On Linux nice is a thread's own: os.getPriority
 * and os.setPriority without a pid read and set the calling thread only, and a thread takes its
 * creator's nice when it is made.
 */
export interface ThreadNice {
  get(): number;
  set(nice: number): void;
}

export const callingThreadNice: ThreadNice = {
  get: () => getPriority(),
  set: (nice) => setPriority(nice),
};

/** Why the probe thread kept its nice; `code` is stable (a log field). */
export interface ThreadNiceDenied {
  code: 'PROBE_THREAD_NICE_DENIED';
  message: string;
}

export interface ProbeThreadNice {
  /** The nice the probe thread runs at now. */
  nice: number;
  denied?: ThreadNiceDenied;
}

/**
 * Sets the nice of the thread that schedules, starts and times the runs (the agent's main thread),
 * once, at start-up. With 12,000 checks on 2 cores, runs planned while a scrape was served started
 * late because this thread waited for a core behind zlib, the scraper and other processes (its
 * runqueue wait was most of each late stretch), not because it was busy: at nice -10 their start-lag
 * p99 fell from 5.5-7.2 ms to 2.7 over 3-minute runs (bench/scale.mjs, Node 22). It and the HTTPS
 * worker use about a sixth of a core each there, so they take little from others; they get a core sooner.
 *
 * Threads made before the call (the libuv pool, V8's helpers) keep the agent's own nice; those the
 * thread makes after it take this one (the HTTPS worker, whose phases are timed too). A lower nice
 * needs CAP_SYS_NICE (or RLIMIT_NICE): without it the thread keeps its nice and `denied` says how to
 * allow it; a higher one is always allowed.
 */
export function setProbeThreadNice(want: number, thread: ThreadNice = callingThreadNice): ProbeThreadNice {
  const before = thread.get();
  if (want === before) return { nice: before };
  try {
    thread.set(want);
    return { nice: thread.get() };
  } catch (err) {
    const reason = systemErrorCode(err);
    return {
      nice: thread.get(),
      denied: {
        code: 'PROBE_THREAD_NICE_DENIED',
        message:
          `probe_thread_nice ${want} not applied (${reason}): runs keep nice ${before} and start later when the ` +
          'cores are busy. Allow it with CAP_SYS_NICE (docker --cap-add SYS_NICE, AmbientCapabilities= in ' +
          'systemd, securityContext.capabilities.add: [SYS_NICE]) or a nice rlimit, or set probe_thread_nice: ' +
          `${before} to keep the thread as it is`,
      },
    };
  }
}

/** EACCES or EPERM from os.setPriority's SystemError (its own code is ERR_SYSTEM_ERROR). */
function systemErrorCode(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const info = 'info' in err ? (err.info as { code?: unknown } | undefined) : undefined;
  return String(info?.code ?? ('code' in err ? err.code : err.message));
}
