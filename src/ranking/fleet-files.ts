import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { INDEX_SCHEMA } from './fleet-lists.js';
import type { FleetList, LeftOut } from './fleet-lists.js';

/** `index.json`: which file serves which region x carrier, and which pairs were left out. */
export interface FleetIndex {
  schema: typeof INDEX_SCHEMA;
  generatedAt: string;
  minAgents: number;
  lists: Array<{ region: string; carrier: string; file: string; sets: string[] }>;
  leftOut: LeftOut[];
}

export const INDEX_FILE = 'index.json';

/** `REGION--CARRIER.json`, each part percent-encoded (no `/`, so never outside the directory), `_` when empty. */
export function listFileName(region: string, carrier: string): string {
  const part = (s: string): string => (s === '' ? '_' : encodeURIComponent(s).replaceAll('-', '%2D'));
  return `${part(region)}--${part(carrier)}.json`;
}

export function fleetIndex(lists: readonly FleetList[], leftOut: LeftOut[], minAgents: number, now: Date): FleetIndex {
  return {
    schema: INDEX_SCHEMA,
    generatedAt: now.toISOString(),
    minAgents,
    lists: lists.map((l) => ({
      region: l.region,
      carrier: l.carrier,
      file: listFileName(l.region, l.carrier),
      sets: l.sets.map((s) => s.set),
    })),
    leftOut,
  };
}

/**
 * Writes one file per list and the index into `dir`, for an object store or CDN to serve. Every file
 * is written under a temporary name first and renamed only once all are written, the index last: a
 * reader sees each file whole, old or new, and a failed run leaves no file behind.
 */
export async function writeFleetFiles(dir: string, lists: readonly FleetList[], index: FleetIndex): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const files = [
    ...lists.map((l) => ({ name: listFileName(l.region, l.carrier), body: l })),
    { name: INDEX_FILE, body: index },
  ].map((f) => ({ ...f, path: join(dir, f.name), temp: join(dir, `.${f.name}.${tag}.tmp`) }));
  try {
    for (const f of files) await writeFile(f.temp, `${JSON.stringify(f.body, null, 2)}\n`, { flag: 'wx' });
    for (const f of files) await rename(f.temp, f.path);
  } catch (err) {
    await Promise.all(files.map((f) => rm(f.temp, { force: true })));
    throw err;
  }
  return files.map((f) => f.path);
}
