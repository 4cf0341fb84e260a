import { describe, expect, it } from 'vitest';
import { DEFAULT_QUALITY, targetThresholds } from '../../../src/quality/quality-settings.js';
import { configProblems, loadConfigText } from '../../helpers/config-text.js';

const load = loadConfigText;
const problems = configProblems;

const targets = `
targets:
  - name: web
    host: 127.0.0.1
    checks:
      - kind: tcp
        port: 443
`;

describe('quality: block', () => {
  it('defaults: 5m, 100 samples, decay 0.5 per 60s, 5 samples, thresholds 1s / 400ms / 0.9 / 0.2', () => {
    expect(load(targets).quality).toEqual(DEFAULT_QUALITY);
    expect(DEFAULT_QUALITY).toMatchObject({
      maxAgeMs: 300_000,
      maxSamples: 100,
      decay: 0.5,
      periodMs: 60_000,
      minSamples: 5,
      maxRttMs: 60_000,
      thresholds: { httpRttMs: 1_000, transportRttMs: 400, successRate: 0.9, trend: 0.2 },
    });
  });

  it('reads every setting, per-target overrides filled from the global thresholds', () => {
    const config = load(`
quality:
  max_age: 10m
  max_samples: 50
  decay: 0.3
  period: 30s
  min_samples: 3
  max_rtt: 10s
  http_rtt: 1500ms
  transport_rtt: 300ms
  success_rate: 0.8
  trend: 0.1
  targets:
    web: { transport_rtt: 900ms }
  record_file: { path: /tmp/obs.jsonl }
${targets}`);
    expect(config.quality).toMatchObject({
      maxAgeMs: 600_000,
      maxSamples: 50,
      decay: 0.3,
      periodMs: 30_000,
      minSamples: 3,
      maxRttMs: 10_000,
      thresholds: { httpRttMs: 1_500, transportRttMs: 300, successRate: 0.8, trend: 0.1 },
      recordFile: { path: '/tmp/obs.jsonl', maxBytes: 10_485_760, maxFiles: 5 },
    });
    expect(targetThresholds(config.quality, 'web')).toEqual({
      httpRttMs: 1_500,
      transportRttMs: 900,
      successRate: 0.8,
      trend: 0.1,
    });
  });

  it('names the file, line and field of each mistake', () => {
    expect(
      problems(`
quality:
  decay: 1.5
  success_rate: -1
  http_rtt: fast
  bogus: 1
  targets:
    nowhere: { trend: 0.1 }
    web: { max_age: 1m }
${targets}`),
    ).toEqual([
      'cfg.yaml:3:10: quality.decay: Too big: expected number to be <=1',
      'cfg.yaml:4:17: quality.success_rate: Too small: expected number to be >=0',
      'cfg.yaml:5:13: quality.http_rtt: "fast" is not a duration: write it like 250ms, 30s, 5m or 1h',
      'cfg.yaml:6:3: quality.bogus: unknown key "bogus"',
      'cfg.yaml:9:12: quality.targets.web.max_age: unknown key "max_age"',
    ]);
  });

  it('refuses overrides for a target that does not exist', () => {
    expect(
      problems(`
quality:
  targets:
    nowhere: { trend: 0.1 }
${targets}`),
    ).toEqual(['cfg.yaml:4:5: quality.targets.nowhere: no target is named "nowhere"']);
  });
});
