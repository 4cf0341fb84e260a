/**
 * The one bounded list of failure codes. A code is a metric label value and an event field, so
 * codes are never reused for a different meaning and never built from error text. Each entry says
 * what happened and what to do about it; the remedy is appended to messages shown to people.
 */
export const FAILURE_CODES = {
  DNS_RESOLVE_FAILED:
    'The name did not resolve (the resolver answered with an error). Check the name and the resolver.',
  DNS_NXDOMAIN: 'The resolver says the name does not exist. Check the spelling and the zone.',
  DNS_NAME_NOT_FOUND:
    'The system resolver found no such name: NXDOMAIN, or no configured resolver gave an answer. Run a dns check to ' +
    'tell them apart.',
  DNS_NO_ADDRESS:
    'The name exists but has no address of the requested family. Check the A/AAAA records or the ip_family setting.',
  DNS_NO_DATA:
    'The name exists but has no records of the asked type (NODATA), and the check demands answers (min_answers; 1 ' +
    'for A/AAAA). Check the zone, or set min_answers: 0 where an empty answer is fine (an IPv4-only name asked AAAA).',
  DNS_TIMEOUT: 'No resolver gave an answer in time (timed out or unreachable). Check the resolver and the path to it.',
  DNS_RCODE:
    'The resolver answered with a response code the check does not accept (in the message: SERVFAIL, REFUSED...).',
  DNS_MALFORMED:
    'The answer could not be read (truncated, looping or invalid). Check the resolver, or a middlebox rewriting DNS.',
  DNS_CONNECT_FAILED: 'The resolver could not be reached over TCP, TLS or HTTPS (refused or unreachable).',
  DNS_TLS_FAILED: 'The TLS handshake with a DoT/DoH resolver failed (certificate, name or protocol; see the message).',
  DNS_TOO_FEW_ANSWERS: 'Fewer answers than min_answers: records are missing from the zone or the resolver trims them.',
  DNS_ANSWER_MISMATCH:
    'The answers are not the expected ones (expect_answers or expect_regex): a stale or wrong record.',
  DNS_HIJACK_UNEXPECTED_ANSWER:
    'An answer lies outside the expected address ranges: the resolver or the path rewrites this name.',
  DNS_HIJACK_DISAGREEMENT:
    'This resolver disagrees with the reference resolver beyond the tolerance: one of them is being lied to.',
  DNS_HIJACK_NXDOMAIN_REWRITE:
    'A name that does not exist got an address instead of NXDOMAIN: the resolver rewrites NXDOMAIN (ad or captive ' +
    'portal).',
  DNS_HIJACK_BOGON:
    'A public name resolved to a private or reserved address: DNS is hijacked or a split-horizon leaks.',
  HTTP_CONNECT_REFUSED:
    'Nothing listens on the web port of that IP (connection refused). Check the service and the load balancer.',
  HTTP_CONNECT_FAILED: 'The TCP connection to the web server failed (unreachable, reset). Check routing and firewalls.',
  HTTP_TIMEOUT:
    'The web server did not get to the next phase before the timeout (the phase says where it stalled: connect, ' +
    'tls, firstByte, headers, transfer).',
  HTTP_PROTOCOL_ERROR: 'The server broke the HTTP exchange (closed, reset or sent something unreadable mid-request).',
  HTTP_STATUS: 'The final status code is not an accepted one (accept_status).',
  HTTP_BODY_MISMATCH: 'The body does not match body_regex: a wrong page, an error page or a captive portal.',
  HTTP_HEADER_MISMATCH: 'No response header matches header_regex.',
  HTTP_BODY_TOO_LARGE:
    'The body is larger than max_body_bytes: reading stopped at the limit and the connection was closed. Raise ' +
    'max_body_bytes, or check a smaller URL.',
  HTTP_TOO_MANY_REDIRECTS: 'More redirects than max_redirects: a redirect loop or a long chain.',
  HTTP_BAD_REDIRECT:
    'A redirect whose Location is empty or not a URL (the message quotes it): the server or its rewrite rules are ' +
    'broken. Fix the Location it sends.',
  HTTP_REDIRECT_REFUSED:
    'A redirect to a scheme other than http or https (file:, ftp:...), which is never followed. Point the check at ' +
    'the final URL, or fix the redirect.',
  TLS_HANDSHAKE:
    'The TLS handshake failed or stalled (protocol or cipher mismatch, a middlebox, an overloaded server).',
  TLS_CERT_EXPIRED: 'A certificate in the chain has expired (or is not yet valid). Renew it.',
  TLS_CERT_NAME_MISMATCH: 'The certificate is not valid for this host name (check SANs, SNI and which server answers).',
  TLS_CERT_UNTRUSTED:
    'The certificate chain does not lead to a trusted CA (self-signed, missing intermediate, or interception). The ' +
    'message has the reason.',
  TCP_REFUSED: 'The host answered with a reset: nothing listens on that port. Check the service and the port.',
  TCP_TIMEOUT: 'No answer to the connection attempt before the timeout: a firewall or the path drops packets.',
  TCP_UNREACHABLE: 'The network reported the host or network unreachable. Check routing from this agent.',
  TCP_RESET: 'The connection was reset while it was being set up. Check the service and any middlebox in front of it.',
  TCP_ERROR: 'The connection failed for another network reason; the message carries the system error.',
  ICMP_NO_REPLY:
    'No echo reply came back before the timeout: the host is down, or ICMP is filtered on the path. A traceroute ' +
    'shows where it stops.',
  ICMP_OTHER_ADDRESS:
    'Echo replies to the requests came back from another address than the one pinged (the message says which, ' +
    'with the RTT): NAT, anycast or a misrouted responder answers for the target. Check the path, not the host.',
  ICMP_UNREACHABLE:
    'A router or the host answered "destination unreachable" (the message says which kind and from where). Check ' +
    'routing and firewalls there.',
  ICMP_TTL_EXCEEDED:
    'The probe ran out of hops before reaching the host: a routing loop, or a path longer than the ttl setting.',
  ICMP_PARAMETER_PROBLEM:
    "A router rejected the probe's header (parameter problem). Check the tos and payload_size settings.",
  ICMP_UNAVAILABLE:
    'This agent cannot send ICMP: raw sockets need CAP_NET_RAW, ping sockets need the group in ' +
    'net.ipv4.ping_group_range (the message says how to allow either). Other check kinds keep running.',
  ICMP_SEND_FAILED:
    'The kernel refused to send the probe (e.g. no route, or a source_address not on this host); the message ' +
    'carries the system error.',
  TRACE_INCOMPLETE:
    'The trace did not reach the destination: the path goes silent after the last responding hop (in the message). ' +
    'Look there: a filter or a broken route.',
  LOCAL_RESOURCE_EXHAUSTED:
    'This agent could not open a socket: it ran out of file descriptors or socket memory (EMFILE, ENFILE, ENOBUFS, ' +
    "ENOMEM). Not the target's fault. Raise the agent's fd limit (ulimit -n, LimitNOFILE, the container's nofile) " +
    'or lower max_concurrent_runs.',
  TIMEOUT: 'The run did not finish before its timeout. Raise timeout: or look at the slowest phase.',
  ABORTED: 'The run was cancelled (the agent is shutting down or the check left the config).',
  INTERNAL: 'A bug in Vantage: the check threw instead of returning a result. Please report it with the event.',
} as const;

export type FailureCode = keyof typeof FAILURE_CODES;

export const failureCodes = Object.keys(FAILURE_CODES) as FailureCode[];

/** The failure part of a result record. `phase` names the phase that failed (e.g. `connect`). */
export interface CheckError {
  code: FailureCode;
  message: string;
  phase: string;
}

/**
 * A failure a check (or an adapter under it) reports. Checks catch these and turn them into a
 * result's `error`; they never escape to the scheduler.
 */
export class CheckFailure extends Error {
  override readonly name = 'CheckFailure';
  constructor(
    readonly code: FailureCode,
    message: string,
    readonly phase: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toCheckError(): CheckError {
    return { code: this.code, message: this.message, phase: this.phase };
  }
}

/** A mistake on the command line; the CLI prints it and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Why a run's AbortSignal fired: the run's deadline passed. */
export class RunDeadlineExceeded extends Error {
  override readonly name = 'RunDeadlineExceeded';
  constructor(readonly timeoutMs: number) {
    super(`the run did not finish within its ${timeoutMs} ms timeout`);
  }
}

/** Why a run's AbortSignal fired: the agent stops, or the check was removed by a reload. */
export class RunCancelled extends Error {
  override readonly name = 'RunCancelled';
}

/** True when the signal fired because of the run deadline (as opposed to a cancellation). */
export function abortedByDeadline(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason instanceof RunDeadlineExceeded;
}

/**
 * The failure of a step its run's signal stopped: the kind's timeout code when the deadline fired,
 * ABORTED when the run was cancelled (shutdown, reload, Ctrl-C), which says nothing of the target.
 */
export function abortFailure(
  signal: AbortSignal,
  phase: string,
  timeout: { code: FailureCode; message: string },
  cancelledMessage: string,
): CheckFailure {
  return abortedByDeadline(signal)
    ? new CheckFailure(timeout.code, timeout.message, phase)
    : new CheckFailure('ABORTED', cancelledMessage, phase);
}
