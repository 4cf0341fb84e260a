/** What a server said to one GET: its status and body, or why none came back. */
export type GetOutcome = { status: number; body: string } | { error: string };

/**
 * GETs `url` and reads the whole body within `timeoutMs`. Never throws: an unreachable or hanging
 * server is an outcome the caller words for its user (the fleet commands' Prometheus API).
 */
export async function getText(
  url: string,
  timeoutMs: number,
  headers: Readonly<Record<string, string>> = {},
): Promise<GetOutcome> {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return { error: `${err instanceof Error ? err.message : String(err)}${cause}` };
  }
}
