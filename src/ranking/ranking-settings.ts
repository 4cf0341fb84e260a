import * as z from 'zod';
import { durationSchema } from '../settings/setting-schemas.js';
import type { ConfigPath } from '../settings/config-path.js';

/**
 * What "fast" means for a set: `http` (the default) adds the weighted-median HTTP first byte and
 * connect time; `icmp` takes the echo RTT alone. Either is divided by the success rate (see score.ts).
 */
export const SCORE_MODES = ['http', 'icmp'] as const;
export type ScoreMode = (typeof SCORE_MODES)[number];

/** The check kind whose runs feed a mode's figures: a set's targets must have one. */
const KIND_OF_MODE: Readonly<Record<ScoreMode, string>> = { http: 'https', icmp: 'icmp' };

/** One entry of `server_sets:`, e.g. `api: { targets: [us-east, eu-west], margin: 0.1, hold: 2m }`. */
export const serverSetSchema = z.strictObject({
  /** Targets serving the same thing, by name (at least one). */
  targets: z.array(z.string()).min(1, 'a server set needs at least one target'),
  /** `http` (first byte + connect) or `icmp` (echo RTT). Default `http`. */
  score: z.enum(SCORE_MODES).default('http'),
  /** A challenger must score at least this fraction better than the target above it. Default 0.1. */
  margin: z.number().min(0).max(0.9).default(0.1),
  /** ...continuously for this long before the order changes. Default `2m`. */
  hold: durationSchema.default(120_000),
});

/** `server_sets:`: set name -> set. */
export const serverSetsSchema = z.record(z.string(), serverSetSchema);

/** Set names become label values: readable, no quoting needed anywhere. */
export const SET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export type RawServerSets = z.output<typeof serverSetsSchema>;

/** A server set as the ranking uses it. */
export interface ServerSet {
  name: string;
  targets: readonly string[];
  mode: ScoreMode;
  margin: number;
  holdMs: number;
}

/** A problem with a set that only the rest of the config shows. */
export interface SetProblem {
  path: ConfigPath;
  message: string;
  /** The problem is the key's, not its value's. */
  onKey?: boolean;
}

/**
 * The sets, and what is wrong with them given the config's targets and their check kinds: a
 * target no target entry names, a target twice in one set, a target without the check its set's
 * score reads, a target in two sets that score it differently (its one window cannot be both).
 */
export function serverSets(
  raw: RawServerSets,
  kindsByTarget: ReadonlyMap<string, ReadonlySet<string>>,
): { sets: ServerSet[]; problems: SetProblem[] } {
  const problems: SetProblem[] = [];
  const modeOf = new Map<string, { set: string; mode: ScoreMode }>();
  const sets: ServerSet[] = [];
  for (const [name, set] of Object.entries(raw)) {
    if (!SET_NAME.test(name))
      problems.push({
        path: ['server_sets', name],
        message: `server_sets.${name}: a set's name becomes a label value: use letters, digits, "_", "." and "-"`,
        onKey: true,
      });
    const seen = new Set<string>();
    set.targets.forEach((target, i) => {
      const path = ['server_sets', name, 'targets', i];
      const where = `server_sets.${name}.targets[${i}]`;
      const kinds = kindsByTarget.get(target);
      if (!kinds) return problems.push({ path, message: `${where}: no target is named "${target}"` });
      if (seen.has(target)) return problems.push({ path, message: `${where}: "${target}" is in this set twice` });
      seen.add(target);
      const kind = KIND_OF_MODE[set.score];
      if (!kinds.has(kind))
        problems.push({ path, message: `${where}: "${target}" has no ${kind} check, which score ${set.score} reads` });
      const other = modeOf.get(target);
      if (other && other.mode !== set.score)
        problems.push({
          path,
          message: `${where}: "${target}" is scored ${set.score} here but ${other.mode} in set "${other.set}"`,
        });
      else modeOf.set(target, { set: name, mode: set.score });
    });
    sets.push({ name, targets: [...seen], mode: set.score, margin: set.margin, holdMs: set.hold });
  }
  return { sets, problems };
}
