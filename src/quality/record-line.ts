import type { Observation } from './quality-model.js';

/**
 * One observation as a JSON line: what `quality.record_file` writes and `vantage quality replay`
 * reads. `t` is Unix time in seconds (fractional); either RTT may be absent.
 */
export interface ObservationRecord {
  t: number;
  target: string;
  ip?: string;
  ok: boolean;
  httpRttMs?: number;
  transportRttMs?: number;
  noRoute?: boolean;
}

export function toRecord(o: Observation): ObservationRecord {
  return {
    t: o.t / 1000,
    target: o.target,
    ...(o.ip !== undefined ? { ip: o.ip } : {}),
    ok: o.ok,
    ...(o.httpRttMs !== undefined ? { httpRttMs: o.httpRttMs } : {}),
    ...(o.transportRttMs !== undefined ? { transportRttMs: o.transportRttMs } : {}),
    ...(o.noRoute ? { noRoute: true } : {}),
  };
}

/** A line that is not an observation; `line` is 1-based. */
export class RecordError extends Error {
  override readonly name = 'RecordError';
  readonly code = 'BAD_OBSERVATION_RECORD';
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

/**
 * Reads one record line as an observation, or throws a `RecordError` naming the line and what is
 * wrong with it. `previousT` (seconds) is the last line's time: records must not go back in time.
 */
export function parseRecord(text: string, line: number, previousT: number | undefined): Observation {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RecordError(line, `not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new RecordError(line, 'not a JSON object');
  const r = value as Record<string, unknown>;
  const { t, target, ip, ok, noRoute } = r;
  if (typeof t !== 'number' || !Number.isFinite(t))
    throw new RecordError(line, '"t" (seconds) is missing or not a number');
  if (previousT !== undefined && t < previousT)
    throw new RecordError(line, `t ${t} is before the previous line's ${previousT}: records must be in time order`);
  if (typeof target !== 'string' || target === '') throw new RecordError(line, '"target" is missing or not a string');
  if (ip !== undefined && typeof ip !== 'string') throw new RecordError(line, '"ip" is not a string');
  if (typeof ok !== 'boolean') throw new RecordError(line, '"ok" is missing or not true/false');
  if (noRoute !== undefined && typeof noRoute !== 'boolean') throw new RecordError(line, '"noRoute" is not true/false');
  return {
    t: t * 1000,
    target,
    ...(ip !== undefined ? { ip } : {}),
    ok,
    ...(noRoute === true ? { noRoute } : {}),
    ...rtt(r, 'httpRttMs', line),
    ...rtt(r, 'transportRttMs', line),
  };
}

/** An RTT field: absent or null is no value; a number is taken as is (the model drops invalid ones). */
function rtt(r: Record<string, unknown>, key: 'httpRttMs' | 'transportRttMs', line: number): Partial<Observation> {
  const v = r[key];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'number') throw new RecordError(line, `"${key}" is not a number`);
  return { [key]: v };
}
