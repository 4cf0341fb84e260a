import type { Clock } from '../clock.js';
import type { EventSinkConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { FileSink, HttpSink } from './event-sinks.js';
import type { EventSink } from './event-sinks.js';

/** Builds the configured sinks (stdout is the log itself and always on). */
export function createSinks(configs: readonly EventSinkConfig[], clock: Clock, log: Logger): EventSink[] {
  return configs.map((c) =>
    c.type === 'file'
      ? new FileSink(c.path, c.max_bytes, c.max_files, log)
      : new HttpSink(
          {
            url: c.url,
            headers: c.headers,
            batchSize: c.batch_size,
            flushIntervalMs: c.flush_interval ?? 5_000,
            maxQueue: c.max_queue,
            backoffMs: 1_000,
            maxBackoffMs: 60_000,
            requestTimeoutMs: 10_000,
          },
          clock,
          log,
        ),
  );
}
