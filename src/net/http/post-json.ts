/** What a collector said to one POST: its status, or why no status came back. */
export type PostOutcome = { status: number; ok: boolean } | { error: string };

/**
 * POSTs `body` as JSON and reads the answer to its end (so the connection can be reused), within
 * `timeoutMs`; `signal` ends it sooner (the request is aborted and its connection closed). Never
 * throws: an unreachable or hanging collector is an outcome, not an exception.
 */
export async function postJson(
  url: string,
  headers: Readonly<Record<string, string>>,
  body: unknown,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<PostOutcome> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: signal ? AbortSignal.any([AbortSignal.timeout(timeoutMs), signal]) : AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    return { status: res.status, ok: res.ok };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}
