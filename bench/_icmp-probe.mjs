// @ts-check
// Helper process for bench/icmp.mjs and bench/traceroute.mjs (not a benchmark on its own): runs
// Vantage's IcmpEngine (from dist/) in a process of its own, so its CPU time and memory are only
// the engine's, and so it can run inside a lab namespace
// (`ip netns exec <agent-ns> node bench/_icmp-probe.mjs MODE JSON`). Prints one JSON line on stdout
// and exits. Modes, one file each in bench/icmp-probe/:
//   throughput {targets, rate, durationMs, timeoutMs}
//       N distinct 127.x.y.z addresses; rate > 0: paced at `rate` probes/s over the targets in
//       turn; rate 0: closed loop (every target re-probed as soon as its answer is in).
//   accuracy {echo, path, count, intervalMs, timeoutMs, inflight, loopbackRate, busyFraction}
//       `count` probes to the echo responder and as many to a kernel-answered host, interleaved,
//       optionally while 1,000 blackholed lab targets are kept in flight, 1,000 loopback targets
//       answer at `loopbackRate` probes/s, and a prom-client registry is rendered `busyFraction`
//       of the time (the event loop blocked, as when /metrics is scraped).
//   blackbox {port, echo, path, count, intervalMs}
//       the same interleaved probes through blackbox_exporter's /probe?module=icmp (it listens on
//       127.0.0.1 of this namespace), reading probe_icmp_duration_seconds{phase="rtt"}.
//   trace {address, runs, maxHops, probesPerHop, probeTimeoutMs}
//       `runs` traces with the agent's trace() on one warm engine (for bench/traceroute.mjs).
// Addresses: 127.0.0.0/8 and the lab's 198.18.0.0/15 and 2001:db8::/32 only (the caller passes them).
// Callers use lib/helpers.mjs's icmpProbe(), typed by the MODES below.
import { errorText } from './lib/errors.mjs';
import { accuracy } from './icmp-probe/accuracy.mjs';
import { blackbox } from './icmp-probe/blackbox.mjs';
import { throughput } from './icmp-probe/throughput.mjs';
import { traceMode } from './icmp-probe/trace.mjs';

export const MODES = { throughput, accuracy, blackbox, trace: traceMode };

const [mode = '', json] = process.argv.slice(2);
/** any from JSON.parse, passed on as is: icmpProbe() built it from the mode's own parameter type. */
const args = JSON.parse(json ?? '{}');
/** Hard bound on this process, whatever happens (the parent also kills it). */
const HARD_LIMIT_MS = args.hardLimitMs ?? 60_000;
setTimeout(() => {
  process.stderr.write(`_icmp-probe: ${mode} still running after ${HARD_LIMIT_MS} ms, exiting\n`);
  process.exit(3);
}, HARD_LIMIT_MS).unref();

try {
  if (!(mode in MODES)) throw new Error(`unknown mode ${mode}: one of ${Object.keys(MODES).join(', ')}`);
  const result = await MODES[/** @type {keyof typeof MODES} */ (mode)](args);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
} catch (err) {
  process.stderr.write(`_icmp-probe ${mode}: ${errorText(err)}\n`);
  process.exit(1);
}
