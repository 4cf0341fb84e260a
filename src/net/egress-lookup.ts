import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

export interface EgressAnswer {
  url: string;
  address: string | null;
  error: string | null;
}

/** Echo services answer with a bare address; anything longer is a captive portal or an error page. */
const MAX_ANSWER_CHARS = 100;

/**
 * Asks each echo service (e.g. https://checkip.amazonaws.com) which address it saw this agent
 * come from: the public egress IP after NAT, which no local interface shows.
 */
export async function askEgress(
  urls: readonly string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<EgressAnswer[]> {
  return Promise.all(
    urls.map(async (url) => {
      const deadline = AbortSignal.timeout(timeoutMs);
      try {
        // A redirect is a captive portal or a moved service, not an answer: say so, follow nothing.
        const res = await fetch(url, {
          signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
          redirect: 'manual',
        });
        const text = (await readAtMost(res, MAX_ANSWER_CHARS)).trim();
        if (res.status >= 300 && res.status < 400)
          return {
            url,
            address: null,
            error: `HTTP ${res.status} redirect to ${res.headers.get('location') ?? '?'}: give the final URL`,
          };
        if (!res.ok) return { url, address: null, error: `HTTP ${res.status}` };
        return isIP(text) !== 0
          ? { url, address: text, error: null }
          : { url, address: null, error: `answered "${text.slice(0, 40)}", not an address` };
      } catch (err) {
        const cause = (err as Error & { cause?: Error }).cause;
        return {
          url,
          address: null,
          error: cause ? `${(err as Error).message}: ${cause.message}` : (err as Error).message,
        };
      }
    }),
  );
}

/** The first `limit` characters of the body; the rest is never downloaded. */
async function readAtMost(res: Response, limit: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (text.length < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel().catch(() => undefined);
  return text.slice(0, limit);
}

/** Non-loopback interface addresses: what the agent's own host says it is. */
export function interfaceAddresses(): Array<{ name: string; address: string }> {
  return Object.entries(networkInterfaces()).flatMap(([name, list]) =>
    (list ?? []).filter((a) => !a.internal).map((a) => ({ name, address: a.address })),
  );
}
