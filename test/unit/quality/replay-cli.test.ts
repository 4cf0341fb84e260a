import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { vantage } from '../../helpers/agent-process.js';

const golden = (name: string): string => new URL(`../../golden/quality/${name}`, import.meta.url).pathname;

/** Compares with the golden file; UPDATE_GOLDEN=1 rewrites it after a deliberate change. */
function expectGolden(text: string, name: string): void {
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden(name), text);
  expect(text).toBe(readFileSync(golden(name), 'utf8'));
}

const dir = mkdtempSync(join(tmpdir(), 'vantage-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A record file with `lines`, in the temp directory. */
function records(name: string, lines: readonly string[]): string {
  const file = join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('vantage quality replay (built CLI)', () => {
  it('default settings, JSON lines: matches day.default.jsonl', async () => {
    const { code, stdout, stderr } = await vantage(['quality', 'replay', golden('day.jsonl'), '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expectGolden(stdout, 'day.default.jsonl');
  });

  it('the config quality: block with an override on the command line, as a table: matches day.ctrip.txt', async () => {
    const { code, stdout } = await vantage([
      'quality',
      'replay',
      golden('day.jsonl'),
      '-c',
      golden('ctrip.yaml'),
      '--success-rate',
      '0.8',
    ]);
    expect(code).toBe(0);
    expectGolden(stdout, 'day.ctrip.txt');
  });

  it.each([
    ['a line that is not JSON', ['{"t":1,"target":"a","ok":true}', '{"t":2,'], ':2: not JSON'],
    ['a missing field', ['{"t":1,"target":"a"}'], ':1: "ok" is missing or not true/false'],
    ['a missing time', ['{"target":"a","ok":true}'], ':1: "t" (seconds) is missing or not a number'],
    [
      't going backwards',
      ['{"t":5,"target":"a","ok":true}', '', '{"t":4,"target":"a","ok":true}'],
      ":3: t 4 is before the previous line's 5: records must be in time order",
    ],
    ['an RTT that is not a number', ['{"t":1,"target":"a","ok":true,"httpRttMs":"fast"}'], ':1: "httpRttMs" is not'],
  ])('%s: the line named, exit 2, nothing on stdout', async (name, lines, message) => {
    const file = records(`${name.replaceAll(' ', '-')}.jsonl`, lines);
    const { code, stdout, stderr } = await vantage(['quality', 'replay', file, '--json']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`vantage quality: ${file}${message}`);
  });

  it('refuses an unknown setting and a bad value, naming them', async () => {
    const file = records('ok.jsonl', ['{"t":1,"target":"a","ok":true}']);
    const unknown = await vantage(['quality', 'replay', file, '--half-life', '1m']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown setting --half-life');
    const bad = await vantage(['quality', 'replay', file, '--decay', '2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--decay: Too big');
  });
});
