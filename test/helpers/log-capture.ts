import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.js';
import type { Logger, LogLevel } from '../../src/log.js';

/** A logger at `level` whose JSON lines land, parsed, in `lines`. */
export function captureLog(level: LogLevel = 'info'): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger(level, sink), lines };
}
