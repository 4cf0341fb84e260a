import type { EndpointReply } from '../web/server.js';
import { esc, page } from './html.js';
import { statusPage } from './status-page.js';
import type { StatusSource } from './status-source.js';
import { targetPage } from './target-page.js';

const HTML = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' };

/** The status pages: `/` and `/targets/NAME`; undefined for any other path (the server's own). */
export function servePage(src: StatusSource, path: string): EndpointReply | undefined {
  if (path === '/') return { status: 200, headers: HTML, body: statusPage(src) };
  if (!path.startsWith('/targets/')) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(path.slice('/targets/'.length));
  } catch {
    return notFound('a target name that is not valid percent-encoding');
  }
  const body = targetPage(src, name);
  return body ? { status: 200, headers: HTML, body } : notFound(`no target named "${name}" in the config`);
}

function notFound(why: string): EndpointReply {
  return { status: 404, headers: HTML, body: page('Not found', `<p>${esc(why)}. <a href="/">All targets</a></p>`) };
}
