import { readFileSync } from 'node:fs';

/**
 * Share of the process's open-file limit the listener's connections may hold: the rest stays for
 * probes (a socket per tcp, dns and https run), config and PEM reads, and the log. About 20,000
 * idle connections once took all 20,000 descriptors and every probe then failed with EMFILE.
 */
const LISTENER_SHARE = 0.5;

/** The soft `RLIMIT_NOFILE` from /proc/self/limits (Node raises it to the hard limit at start), if readable. */
export function openFileLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!m?.[1] || m[1] === 'unlimited') return undefined;
  return Number(m[1]);
}

/** The connection cap: the configured one, held to the listener's share of the descriptors. */
export function connectionCap(configured: number, fileLimit = openFileLimit()): number {
  if (fileLimit === undefined) return configured;
  return Math.max(1, Math.min(configured, Math.floor(fileLimit * LISTENER_SHARE)));
}
