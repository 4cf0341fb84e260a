import { CheckFailure } from '../../errors.js';

/** Schemes a redirect may lead to: anything else (file:, ftp:, data:...) is never requested. */
const FOLLOWED = new Set(['http:', 'https:']);

/** RFC 3986 scheme: a letter, then letters, digits, `+`, `-`, `.`. */
const SCHEME = /^[a-z][a-z0-9+.-]*$/i;

/**
 * The URL a `Location` leads to from `base`, or the failure that stops the chain: an empty or
 * unreadable Location is HTTP_BAD_REDIRECT, a scheme other than http or https HTTP_REDIRECT_REFUSED.
 *
 * WHATWG URL parsing forgives too much for this: `ht!tp://[::zz` is not a scheme, so it parses
 * as a relative path and a broken server would be followed in a loop. RFC 3986 says a reference
 * with a `:` before its first `/`, `?` or `#` starts with a scheme (a relative path's first
 * segment cannot hold a colon), so such a reference must have a valid scheme.
 */
export function redirectTarget(location: string, base: URL): URL | CheckFailure {
  const text = location.trim();
  const shown = JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}...` : text);
  const bad = (why: string): CheckFailure =>
    new CheckFailure('HTTP_BAD_REDIRECT', `${base.href} redirected to ${shown}, ${why}`, 'redirect');
  if (text === '') return bad('an empty Location');
  const scheme = /^([^/?#]*):/.exec(text)?.[1];
  if (scheme !== undefined && !SCHEME.test(scheme)) return bad('which is not a URL (invalid scheme)');
  let next: URL;
  try {
    next = new URL(text, base);
  } catch {
    return bad('which is not a URL');
  }
  if (!FOLLOWED.has(next.protocol))
    return new CheckFailure(
      'HTTP_REDIRECT_REFUSED',
      `${base.href} redirected to ${shown}; only http and https redirects are followed`,
      'redirect',
    );
  return next;
}
