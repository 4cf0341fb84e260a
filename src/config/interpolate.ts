/**
 * `${NAME}` and `${NAME:-default}` substitution from the environment, as shells and Compose do.
 * `$${` writes a literal `${`. Nesting (`${A:-${B}}`) is not supported and is reported, as is an
 * unterminated reference: a silently half-substituted value is worse than an error.
 */
export function substitute(text: string, env: NodeJS.ProcessEnv): { value: string; errors: string[] } {
  const errors: string[] = [];
  let value = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      value += '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      value += text[i];
      i += 1;
      continue;
    }
    const end = text.indexOf('}', i + 2);
    if (end === -1) {
      errors.push(`unterminated variable reference "${text.slice(i)}": close it with }`);
      return { value: value + text.slice(i), errors };
    }
    const body = text.slice(i + 2, end);
    i = end + 1;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s.exec(body);
    if (!m) {
      errors.push(`bad variable reference "\${${body}}": use \${NAME} or \${NAME:-default}`);
      continue;
    }
    const [, name = '', fallback] = m;
    if (fallback?.includes('${')) {
      errors.push(`nested variable references are not supported ("\${${body}}")`);
      continue;
    }
    const found = env[name];
    if (found !== undefined && found !== '') value += found;
    else if (fallback !== undefined) value += fallback;
    else errors.push(`environment variable ${name} is not set or empty (give a default with \${${name}:-value})`);
  }
  return { value, errors };
}
