// @ts-check
// What bench/icmp.mjs runs: target counts, rates, durations and the aims it is judged against.

export const TARGET_COUNTS = [1000, 5000, 10_000];
export const DURATION_MS = 5000;
/**
 * Vantage runs this long at the measured rate, with the measured pacing loop, before each
 * measurement (see icmp-probe/throughput.mjs): an agent runs for days, and V8 takes 6-9 s at
 * 10,000 probes/s and 10-12 s at 1,500/s to compile what the probes run (CPU per probe in
 * consecutive 3 s windows of one process on this machine: 0.0156, 0.0138, 0.0117, 0.0114 at
 * 10,000/s; 0.049, 0.049, 0.057, 0.037, 0.023, 0.024 at 1,482/s).
 */
export const WARMUP_MS = 15_000;
export const RATE = 10_000;
/**
 * Vantage's paced run and fping's, interleaved, this many times per target count; the table shows
 * each tool's median run: the same command's CPU per probe moved by 20 % from run to run on this
 * machine, so one run each could rank the two either way.
 */
export const PEER_ROUNDS = 3;
export const TIMEOUT_MS = 1000;
export const BB_PROBES = 5000;
export const BB_CONCURRENCY = 100;
export const ACC_COUNT = 200;
export const ACC_INTERVAL_MS = 10;
export const ECHO_DELAY_MS = 20;
export const INFLIGHT_TARGETS = 1000;
export const LOOPBACK_LOAD = { targets: 1000, rate: 5000 };
export const BUSY_FRACTION = 0.2;
/** Past the engine's 30 s memory of finished probe keys: what "sustained" has to survive. */
export const SUSTAINED = { targets: 1000, rate: RATE, durationMs: 40_000, windowMs: 5000, killAfterStallMs: 20_000 };
export const AIMS = { rate: 10_000, cpuPer1k: 0.04, vsBlackbox: 25, errMedianUs: 50, errP99Us: 1000 };

export const TIME = '/usr/bin/time';
export const BLACKBOX_ICMP_CONFIG = `modules:
  icmp:
    prober: icmp
    timeout: 2s
    icmp:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
`;
