import { Composer, isMap, isScalar, isSeq } from 'yaml';
import type { CST, Document, DocumentOptions, ParseOptions, SchemaOptions, YAMLSeq } from 'yaml';
import type { Steps } from './pace.js';

type ComposeOptions = ParseOptions & DocumentOptions & SchemaOptions;

/** Items of the top-level `targets:` list composed at a time (a few ms for 50 targets). */
const TARGETS_PER_PART = 50;

/**
 * Turns the parser's tokens into documents, as `Composer.compose` does, but composes the items of
 * the top-level `targets:` block list a part at a time, with a step between parts (see pace.ts):
 * composing 5,000 checks in one go held the event loop for 60-100 ms. Each part is composed from
 * its own tokens, which keep their offsets in the file, so positions are what a whole compose
 * gives; the parts' nodes are then appended to the document's list. A document that is not laid
 * out that way (directives, `targets:` not the last key, a flow list, few targets) is composed whole.
 */
export function* composeDocuments(
  tokens: readonly CST.Token[],
  options: ComposeOptions,
  endOffset: number,
): Steps<Document[]> {
  const whole = (): Document[] => [...new Composer(options).compose(tokens, true, endOffset)];
  const composer = new Composer(options);
  const docs: Document[] = [];
  const directives = tokens.some((t) => t.type === 'directive');
  let rest: CST.BlockSequence[] = [];
  for (const token of tokens) {
    const split = token.type === 'document' && docs.length === 0 && !directives ? splitTargets(token) : undefined;
    if (split) rest = split.rest;
    docs.push(...composer.next(split?.head ?? token));
    yield;
  }
  docs.push(...composer.end(true, endOffset));
  const [doc] = docs;
  if (rest.length === 0 || !doc) return docs;
  const targets = targetsSeq(doc);
  if (!targets || !isMap(doc.contents)) return whole();
  const top = doc.contents;
  for (const part of rest) {
    yield;
    const partComposer = new Composer(options);
    const token: CST.Document = { type: 'document', offset: part.offset, start: [], value: part };
    const [partDoc] = [...partComposer.next(token), ...partComposer.end()];
    if (!partDoc || !isSeq(partDoc.contents)) return whole();
    targets.items.push(...partDoc.contents.items);
    // The list, the top-level map and the document now end where this part ends.
    const [, valueEnd, nodeEnd] = partDoc.contents.range ?? [0, endOffset, endOffset];
    targets.range = [targets.range?.[0] ?? part.offset, valueEnd, nodeEnd];
    top.range = [top.range?.[0] ?? 0, nodeEnd, nodeEnd];
    doc.range = [doc.range?.[0] ?? 0, nodeEnd, Math.max(nodeEnd, doc.range?.[2] ?? 0)];
    targets.comment = partDoc.contents.comment;
    doc.errors.push(...partDoc.errors);
    doc.warnings.push(...partDoc.warnings);
  }
  return docs;
}

/** The document token with its `targets:` list cut to the first part, and the other parts. */
function splitTargets(token: CST.Document): { head: CST.Document; rest: CST.BlockSequence[] } | undefined {
  const map = token.value;
  if (map?.type !== 'block-map') return undefined;
  // The last key only: a key after the cut list would be composed at the wrong distance from it.
  const index = map.items.length - 1;
  const item = map.items[index];
  if (!item?.sep || item.key?.type !== 'scalar' || item.key.source !== 'targets') return undefined;
  const seq = item.value;
  if (seq?.type !== 'block-seq' || seq.items.length <= TARGETS_PER_PART) return undefined;
  const rest: CST.BlockSequence[] = [];
  for (let i = TARGETS_PER_PART; i < seq.items.length; i += TARGETS_PER_PART) {
    const items = seq.items.slice(i, i + TARGETS_PER_PART);
    const first = items[0];
    const offset = first?.start[0]?.offset ?? first?.value?.offset ?? seq.offset;
    rest.push({ ...seq, offset, items });
  }
  const items = [...map.items];
  items[index] = { ...item, value: { ...seq, items: seq.items.slice(0, TARGETS_PER_PART) } };
  return { head: { ...token, value: { ...map, items } }, rest };
}

function targetsSeq(doc: Document): YAMLSeq | undefined {
  if (!isMap(doc.contents)) return undefined;
  const pair = doc.contents.items.at(-1);
  return isScalar(pair?.key) && pair.key.value === 'targets' && isSeq(pair.value) ? pair.value : undefined;
}
