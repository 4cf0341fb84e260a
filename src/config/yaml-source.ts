import { isMap, isScalar, isSeq, LineCounter, parse, parseDocument, Scalar, visit } from 'yaml';
import { substitute } from './interpolate.js';
import type { Document, Node } from 'yaml';
import type { ConfigPath } from '../settings/config-path.js';
import type { Diagnostic } from './diagnostics.js';

/**
 * A parsed YAML file that can say where any value came from. Keeping the `Document` (not just the
 * plain object) is what lets every schema problem be reported as `file:line:col`.
 */
export class YamlSource {
  private readonly lines = new LineCounter();
  readonly doc: Document;
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    readonly file: string,
    text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    for (const err of [...this.doc.errors, ...this.doc.warnings]) {
      this.diagnostics.push(this.at(err.pos[0], `YAML: ${err.message.split('\n')[0]}`));
    }
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
  interpolate(env: NodeJS.ProcessEnv): void {
    visit(this.doc, {
      Scalar: (key, node) => {
        if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('${')) return;
        const offset = node.range?.[0] ?? 0;
        const { value, errors } = substitute(node.value, env);
        for (const error of errors) this.diagnostics.push(this.at(offset, error));
        node.value = node.type === Scalar.PLAIN ? plainScalar(value) : value;
      },
    });
  }

  toJS(): unknown {
    return this.doc.toJS();
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
