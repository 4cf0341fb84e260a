// @ts-check
// One child process (a scale and an engine): fill the store through the real ProbeRecorder, then
// measure scrapes, plain and gzipped, and print a ChildResult as JSON.
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzip as gzipCallback } from 'node:zlib';
import { exposition } from './exposition.mjs';
import { measureScrapes, sink } from './loop-block.mjs';
import { recordRuns } from './series.mjs';
import { MB, SCRAPES } from './settings.mjs';

/** @import { ChildResult, Engine, Scale } from './settings.mjs' */

/**
 * @param {Engine} engine
 * @param {number} wanted series
 */
export async function child(engine, wanted) {
  setFlagsFromString('--expose-gc');
  /** @type {() => void} */
  const gc = runInNewContext('gc');
  const { recorder, scrapeTo } = await exposition(engine);

  const perTarget = 50;
  const targets = Math.max(1, Math.round(wanted / perTarget));
  const recordUs = recordRuns(recorder, targets);
  gc();
  const mem = process.memoryUsage();

  // The series count and a hash of the probe lines (both engines must agree), from a scrape before the
  // timed ones, after the same runs in both (the timed scrapes record runs too, as many as each
  // engine has scrapes: counters differ after them); its copy of the body is collected before them.
  const checkScrape = async () => {
    /** @type {Buffer[]} */
    const kept = [];
    await scrapeTo(sink(kept).stream, false);
    const text = Buffer.concat(kept).toString('utf8');
    const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    const probeLines = lines.filter((l) => !l.startsWith('process_') && !l.startsWith('nodejs_')).sort();
    return {
      series: lines.length,
      probeLinesHash: createHash('sha256').update(probeLines.join('\n')).digest('hex').slice(0, 16),
      gzip6Bytes: engine === 'ours' ? (await promisify(gzipCallback)(text, { level: 6 })).length : null,
    };
  };
  const { series, probeLinesHash, gzip6Bytes } = await checkScrape();
  gc();
  for (let k = 0; k < SCRAPES[engine].warmup; k++) await scrapeTo(sink(undefined).stream, k % 2 === 1);

  const scrapes = SCRAPES[engine][/** @type {Scale} */ (wanted)] ?? 3;
  const plain = await measureScrapes(scrapeTo, false, scrapes);
  const zipped = await measureScrapes(scrapeTo, true, scrapes);
  // As in the agent, where every check runs between two scrapes: ours renders each owner then.
  const afterRuns = await measureScrapes(scrapeTo, true, scrapes, () => recordRuns(recorder, targets));
  const rssMB = process.memoryUsage().rss / MB;
  /** @type {ChildResult} */
  const result = {
    engine,
    targets,
    series,
    probeLinesHash,
    plain,
    gzip: zipped,
    afterRuns,
    gzip6Bytes,
    heapMB: mem.heapUsed / MB,
    buffersMB: mem.arrayBuffers / MB,
    rssMB,
    recordUs,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
