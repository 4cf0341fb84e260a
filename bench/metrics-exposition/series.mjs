// @ts-check
// The series: icmp checks and their results, deterministic (target i always gives the same lines).

/** @param {number} i */
export function spec(i) {
  return {
    name: `ping-${i}`,
    kind: 'icmp',
    target: { name: `target-${i}`, host: `host-${i}.bench.invalid`, group: '', labels: {} },
    schedule: { type: 'interval', intervalMs: 10_000 },
    timeoutMs: 5_000,
    settings: {},
  };
}

/**
 * One icmp run of target i: one echo, answered (every 20th lost).
 * @param {number} i
 * @param {string} startedAt
 */
export function results(i, startedAt) {
  const ip = `127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const lost = i % 20 === 0;
  const rtt = 0.05 + ((i * 37) % 1000) / 100;
  return [
    {
      check: `ping-${i}`,
      kind: 'icmp',
      target: `target-${i}`,
      ip,
      ok: !lost,
      error: lost ? { code: 'ICMP_TIMEOUT', message: 'no reply', phase: 'ping' } : null,
      startedAt,
      durationMs: lost ? 1000 : rtt + 0.02,
      phasesMs: { resolve: 0.01, ping: lost ? 1000 : rtt },
      sent: 1,
      received: lost ? 0 : 1,
      loss: lost ? 1 : 0,
      duplicates: 0,
      rttMs: lost ? null : { min: rtt, avg: rtt, median: rtt, max: rtt, stddev: 0 },
      rttsMs: lost ? [] : [rtt],
      replyTtl: lost ? null : 64,
      icmpError: null,
    },
  ];
}

/**
 * Records three runs of every check, 10 s apart; the third is timed (warm code, series already
 * there: the steady state of an agent, where every run rewrites its check's series).
 * @param {{ record: (spec: any, results: any[]) => unknown }} recorder a ProbeRecorder
 * @param {number} targets
 * @returns {number} microseconds per check run of the third
 */
export function recordRuns(recorder, targets) {
  for (let i = 0; i < targets; i++) recorder.record(spec(i), results(i, '2026-01-01T00:00:00.000Z'));
  for (let i = 0; i < targets; i++) recorder.record(spec(i), results(i, '2026-01-01T00:00:10.000Z'));
  const t0 = performance.now();
  for (let i = 0; i < targets; i++) recorder.record(spec(i), results(i, '2026-01-01T00:00:20.000Z'));
  return ((performance.now() - t0) * 1000) / targets;
}
