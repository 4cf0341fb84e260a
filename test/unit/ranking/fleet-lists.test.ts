import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { fleetIndex, listFileName, writeFleetFiles } from '../../../src/ranking/fleet-files.js';
import { fleetLists } from '../../../src/ranking/fleet-lists.js';
import type { Sample } from '../../../src/ranking/prometheus-api.js';

const schema = (name: string): object =>
  JSON.parse(readFileSync(new URL(`../../../src/ranking/${name}.v1.schema.json`, import.meta.url), 'utf8')) as object;
const ajv = new Ajv({ format: 'full' });
const validate = ajv.compile(schema('dynamic-server-list'));
const validateIndex = ajv.compile(schema('dynamic-server-list-index'));
const dir = mkdtempSync(join(tmpdir(), 'vantage-fleet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pair = { region: 'cn-north', carrier: 'unicom' };
const agents: Sample[] = [
  { labels: { ...pair, set: 'api' }, value: 3 },
  { labels: { region: 'cn-north', carrier: 'telecom', set: 'api' }, value: 1 },
];
const medians: Sample[] = [
  { labels: { ...pair, set: 'api', target: 'us' }, value: 0.06 },
  { labels: { ...pair, set: 'api', target: 'eu' }, value: 0.0201234567 },
  { labels: { ...pair, set: 'api', target: 'ap' }, value: 0.06 },
  { labels: { region: 'cn-north', carrier: 'telecom', set: 'api', target: 'us' }, value: 0.005 },
];
const now = new Date('2026-12-05T09:00:00Z');

describe('fleet lists', () => {
  it('ranks each set of a pair by median score (ties by name), leaves out pairs under the minimum', () => {
    const { lists, leftOut } = fleetLists(agents, medians, 2, now);
    expect(lists).toEqual([
      {
        schema: 'vantage.dynamic-server-list/v1',
        ...pair,
        generatedAt: '2026-12-05T09:00:00.000Z',
        sets: [
          {
            set: 'api',
            agents: 3,
            endpoints: [
              { target: 'eu', rank: 1, scoreMs: 20.123 },
              { target: 'ap', rank: 2, scoreMs: 60 },
              { target: 'us', rank: 3, scoreMs: 60 },
            ],
          },
        ],
      },
    ]);
    expect(leftOut).toEqual([{ region: 'cn-north', carrier: 'telecom', set: 'api', agents: 1 }]);
    for (const list of lists) expect(validate(list), JSON.stringify(validate.errors)).toBe(true);
  });

  it("with the agents' config, each endpoint carries its url or host", () => {
    const addresses = new Map([
      ['eu', { url: 'https://eu.example.com/' }],
      ['us', { host: 'us.example.com' }],
    ]);
    const [list] = fleetLists(agents, medians, 2, now, addresses).lists;
    expect(list?.sets[0]?.endpoints).toEqual([
      { target: 'eu', rank: 1, scoreMs: 20.123, url: 'https://eu.example.com/' },
      { target: 'ap', rank: 2, scoreMs: 60 },
      { target: 'us', rank: 3, scoreMs: 60, host: 'us.example.com' },
    ]);
    expect(validate(list)).toBe(true);
  });

  it('--min-agents 1 ranks the single-agent pair too', () => {
    expect(fleetLists(agents, medians, 1, now).lists.map((l) => l.carrier)).toEqual(['telecom', 'unicom']);
  });

  it.each([
    ['cn-north', 'unicom', 'cn%2Dnorth--unicom.json'],
    ['', '', '_--_.json'],
    ['../etc', 'a/b', '..%2Fetc--a%2Fb.json'],
  ])('file name of %j / %j: %s', (region, carrier, name) => {
    expect(listFileName(region, carrier)).toBe(name);
  });

  it('writes every list and the index whole, and no temporary file stays', async () => {
    const { lists, leftOut } = fleetLists(agents, medians, 1, now);
    const out = join(dir, 'out');
    await writeFleetFiles(out, lists, fleetIndex(lists, leftOut, 1, now));
    expect(readdirSync(out).sort()).toEqual(['cn%2Dnorth--telecom.json', 'cn%2Dnorth--unicom.json', 'index.json']);
    const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { lists: Array<{ file: string }> };
    expect(validateIndex(index), JSON.stringify(validateIndex.errors)).toBe(true);
    expect(index.lists.map((l) => l.file)).toEqual(['cn%2Dnorth--telecom.json', 'cn%2Dnorth--unicom.json']);
    for (const l of index.lists) expect(validate(JSON.parse(readFileSync(join(out, l.file), 'utf8')))).toBe(true);
  });

  it('a directory that cannot be made: rejects, nothing written', async () => {
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, 'x');
    const { lists, leftOut } = fleetLists(agents, medians, 2, now);
    await expect(writeFleetFiles(join(blocker, 'out'), lists, fleetIndex(lists, leftOut, 2, now))).rejects.toThrow();
    expect(readdirSync(dir).sort()).toEqual(['blocker', 'out']);
  });
});
