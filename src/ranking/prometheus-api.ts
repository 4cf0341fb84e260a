import * as z from 'zod';
import { getText } from '../net/http/get-text.js';

/** Why a query to the Prometheus-compatible API gave no answer to use. */
export class PrometheusApiError extends Error {
  override readonly name = 'PrometheusApiError';
  constructor(
    /** UNREACHABLE: no HTTP answer; HTTP_STATUS: not 200; BAD_ANSWER: not a Prometheus instant vector. */
    readonly code: 'UNREACHABLE' | 'HTTP_STATUS' | 'BAD_ANSWER',
    message: string,
  ) {
    super(message);
  }
}

/** One sample of an instant vector: its labels and value. */
export interface Sample {
  labels: Readonly<Record<string, string>>;
  value: number;
}

const vectorAnswer = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('vector'),
    result: z.array(
      z.object({
        metric: z.record(z.string(), z.string()),
        value: z.tuple([z.number(), z.string()]),
      }),
    ),
  }),
});

/**
 * An instant query (`/api/v1/query`) of Prometheus or VictoriaMetrics at `base` (e.g.
 * `http://prometheus:9090`, a path prefix kept). Rejects with a PrometheusApiError.
 */
export async function instantQuery(base: string, expr: string, timeoutMs: number): Promise<Sample[]> {
  const url = `${base.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(expr)}`;
  const outcome = await getText(url, timeoutMs);
  if ('error' in outcome) throw new PrometheusApiError('UNREACHABLE', `cannot reach ${base}: ${outcome.error}`);
  if (outcome.status !== 200)
    throw new PrometheusApiError(
      'HTTP_STATUS',
      `${base} answered HTTP ${outcome.status} to ${expr}: ${outcome.body.slice(0, 200).trim()}`,
    );
  let json: unknown;
  try {
    json = JSON.parse(outcome.body);
  } catch {
    throw new PrometheusApiError(
      'BAD_ANSWER',
      `${base} answered something that is not JSON: ${outcome.body.slice(0, 80)}`,
    );
  }
  const parsed = vectorAnswer.safeParse(json);
  if (!parsed.success)
    throw new PrometheusApiError(
      'BAD_ANSWER',
      `${base} did not answer a Prometheus instant vector to ${expr} (is it a Prometheus-compatible API?)`,
    );
  return parsed.data.data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
}
