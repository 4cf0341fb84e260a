import { createSecureContext } from 'node:tls';
import type { SecureContext } from 'node:tls';

/** What a client context is built from: extra CAs (else the bundled roots) and a client certificate. */
export interface TlsTrust {
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
}

/**
 * Distinct (ca, cert, key) sets a process keeps contexts for. A config holds a handful; the bound
 * only stops a stream of reloads with ever new files from growing the cache.
 */
const MAX_CONTEXTS = 256;

const contexts = new Map<string, SecureContext>();

/**
 * The client SecureContext for `trust`, built once per process and shared by every connection
 * with the same files: building one parses the CA bundle (the bundled roots: about 0.4 ms warm,
 * 1.5 ms cold) on every run otherwise, time that landed in the connect phase, and memory for
 * 12,000 checks. Sharing a context shares no sessions: Node resumes a TLS session only when
 * handed one, and the clients never do.
 */
export function secureContextFor(trust: TlsTrust): SecureContext {
  const key = `${trust.ca ?? ''}\0${trust.cert ?? ''}\0${trust.key ?? ''}`;
  let context = contexts.get(key);
  if (context) {
    // Most recently used last, so the oldest is the one dropped at the bound.
    contexts.delete(key);
  } else {
    context = createSecureContext({
      ...(trust.ca ? { ca: trust.ca } : {}),
      ...(trust.cert ? { cert: trust.cert } : {}),
      ...(trust.key ? { key: trust.key } : {}),
    });
    if (contexts.size >= MAX_CONTEXTS) contexts.delete(contexts.keys().next().value ?? '');
  }
  contexts.set(key, context);
  return context;
}
