import { isAlias, isMap, isPair, isSeq } from 'yaml';
import type { Alias, Document, Node } from 'yaml';

/** Values the aliases of one config may add in all: far beyond any real use, far below a bomb. */
export const MAX_ALIAS_VALUES = 1_000_000;

export interface AliasProblem {
  /** Where the offending alias is. */
  offset: number;
  message: string;
}

/**
 * The first alias that cannot be expanded safely: one naming no anchor before it, one inside the
 * node it names (a cycle), or the one at which the copies aliases make pass `limit` values (the
 * "billion laughs": ten aliases of ten aliases of ... a file of a few hundred bytes that
 * expands to 10^9 values). Counted on the document, each anchored node's size once, so it costs
 * one walk whatever the aliases would expand to. Resolution follows YAML: an alias names the last
 * node with that anchor before it, in document order.
 */
export function aliasProblem(doc: Document, limit = MAX_ALIAS_VALUES): AliasProblem | undefined {
  const anchors = new Map<string, Node>();
  const sizes = new Map<Node, number>();
  const open = new Set<Node>();
  let added = 0;
  let problem: AliasProblem | undefined;

  const alias = (node: Alias): number => {
    const at = node.range?.[0] ?? 0;
    const target = anchors.get(node.source);
    if (!target) {
      problem = { offset: at, message: `alias *${node.source} names no anchor &${node.source} before it` };
      return 0;
    }
    if (open.has(target)) {
      problem = {
        offset: at,
        message: `alias *${node.source} is inside the node it names (a config cannot contain itself): remove it`,
      };
      return 0;
    }
    const size = sizes.get(target) ?? 1;
    added += size;
    if (added > limit)
      problem = {
        offset: at,
        message:
          `aliases expand this file past ${limit.toLocaleString('en-US')} values here (*${node.source}; an ` +
          'alias bomb?): write the repeated parts out, or alias fewer and smaller pieces',
      };
    return size;
  };

  const walk = (node: unknown): number => {
    if (problem || node === null || typeof node !== 'object') return 0;
    if (isAlias(node)) return alias(node);
    if (isPair(node)) return walk(node.key) + walk(node.value);
    const { anchor } = node as Node;
    if (!anchor) return 1 + items(node);
    // Only anchored nodes are looked up later: only they are tracked.
    const anchored = node as Node;
    anchors.set(anchor, anchored);
    open.add(anchored);
    const size = 1 + items(node);
    open.delete(anchored);
    sizes.set(anchored, size);
    return size;
  };

  const items = (node: object): number => {
    let size = 0;
    if (isMap(node) || isSeq(node)) for (const item of node.items) size += walk(item);
    return size;
  };

  walk(doc.contents);
  return problem;
}
