import { Document, isMap, isNode, isScalar, isSeq, Lexer, LineCounter, parse, Parser, Scalar, visit } from 'yaml';
import { substitute } from './interpolate.js';
import type { CST, Node } from 'yaml';
import type { ConfigPath } from '../settings/config-path.js';
import { ConfigError } from './diagnostics.js';
import type { Diagnostic } from './diagnostics.js';
import type { Steps } from './pace.js';
import { aliasProblem } from './yaml-aliases.js';
import { composeDocuments } from './yaml-compose.js';

/** Lexical tokens parsed per step: well under a millisecond, 10 ms for 10^5 nested brackets. */
const LEXEMES_PER_STEP = 250;

/**
 * A parsed YAML file that can say where any value came from. Keeping the `Document` (not just the
 * plain object) is what lets every schema problem be reported as `file:line:col`.
 */
export class YamlSource {
  readonly diagnostics: Diagnostic[] = [];

  private constructor(
    readonly file: string,
    readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /**
   * Parses `text` with a step every `LEXEMES_PER_STEP` tokens (see pace.ts), driving the `yaml`
   * package's lexer and parser token by token as its own `Parser.parse` does, so even one very
   * long line (a file of 10^6 nested brackets took 8 s to parse) never holds the event loop.
   * Problems (syntax, a second document, aliases that cannot be expanded safely) land in
   * `diagnostics`; nothing throws.
   */
  static *parseSteps(file: string, text: string): Steps<YamlSource> {
    const lines = new LineCounter();
    const parser = new Parser(lines.addNewLine);
    lines.addNewLine(0);
    const tokens: CST.Token[] = [];
    let lexemes = 0;
    for (const lexeme of new Lexer().lex(text)) {
      tokens.push(...parser.next(lexeme));
      if (++lexemes % LEXEMES_PER_STEP === 0) yield;
    }
    tokens.push(...parser.end());
    const docs = yield* composeDocuments(tokens, { prettyErrors: false, uniqueKeys: true }, text.length);
    // end(true) makes a document of an empty file too: there is always one.
    const source = new YamlSource(file, docs[0] ?? new Document(), lines);
    for (const err of [...source.doc.errors, ...source.doc.warnings]) {
      source.diagnostics.push(source.at(err.pos[0], `YAML: ${err.message.split('\n')[0]}`));
    }
    const second = docs[1];
    if (second) {
      source.diagnostics.push(
        source.at(
          second.range?.[0] ?? text.length,
          'YAML: a second document starts here; a config is one document (remove the ---)',
        ),
      );
    }
    if (source.diagnostics.length > 0) return source;
    yield;
    const aliases = aliasProblem(source.doc);
    if (aliases) source.diagnostics.push(source.at(aliases.offset, `YAML: ${aliases.message}`));
    return source;
  }

  /** A diagnostic at the value of `path` (or at its key with `onKey`, for "unknown key" problems). */
  diagnostic(path: ConfigPath, message: string, onKey = false): Diagnostic {
    return this.at(this.offsetOf(path, onKey), message);
  }

  at(offset: number, message: string): Diagnostic {
    const pos = this.lines.linePos(offset);
    return { file: this.file, line: pos.line, col: pos.col, message };
  }

  /**
   * Replaces `${NAME}` and `${NAME:-default}` in values (not keys) with environment variables, so a
   * DaemonSet can inject region and carrier. An unquoted value is re-read as YAML after
   * substitution, so `port: ${PORT:-443}` is a number as if the number had been written.
   */
  *interpolate(env: NodeJS.ProcessEnv): Steps<void> {
    const visitor = {
      Scalar: (key: number | 'key' | 'value' | null, node: Scalar) => {
        if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('${')) return;
        const offset = node.range?.[0] ?? 0;
        const { value, errors } = substitute(node.value, env);
        for (const error of errors) this.diagnostics.push(this.at(offset, error));
        node.value = node.type === Scalar.PLAIN ? plainScalar(value) : value;
      },
    };
    const top = this.doc.contents;
    if (!isMap(top)) return visit(this.doc, visitor);
    // Value by value, and the targets a few at a time, with a step between (see pace.ts).
    for (const pair of top.items) {
      const { value } = pair;
      if (!isSeq(value)) {
        if (isNode(value)) visit(value, visitor);
        continue;
      }
      for (const [i, item] of value.items.entries()) {
        if (i % 25 === 24) yield;
        if (isNode(item)) visit(item, visitor);
      }
    }
  }

  /**
   * The plain value. Aliases were checked when parsed (none dangling, none cyclic, a bounded
   * expansion), so the `yaml` package's own alias limit is off: it counts uses of an anchor, and
   * rejected a config with 101 targets sharing one `checks: *common` list. Anything the package
   * still throws (nesting deeper than the stack) is a `ConfigError` at the document's start.
   */
  toJS(): unknown {
    try {
      return this.doc.toJS({ maxAliasCount: -1 });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const at = this.at(rangeStart(this.doc.contents) ?? 0, `YAML: cannot read the document (${reason})`);
      throw new ConfigError([...this.diagnostics, at]);
    }
  }

  private offsetOf(path: ConfigPath, onKey: boolean): number {
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node) ?? 0;
    for (const [i, segment] of path.entries()) {
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
        if (!pair) return offset;
        if (last && onKey) return rangeStart(pair.key) ?? offset;
        node = pair.value;
        offset = rangeStart(pair.value) ?? rangeStart(pair.key) ?? offset;
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment];
        offset = rangeStart(node) ?? offset;
      } else {
        return offset;
      }
    }
    return offset;
  }
}

/**
 * What YAML would have made of `text` written unquoted: a number or boolean, else the string.
 * An empty substitution stays an empty string (not null), as `${VAR:-}` means "empty by default".
 */
function plainScalar(text: string): unknown {
  if (text.trim() === '') return text;
  try {
    const parsed: unknown = parse(text);
    return parsed === null || ['number', 'boolean'].includes(typeof parsed) ? parsed : text;
  } catch {
    return text;
  }
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}
