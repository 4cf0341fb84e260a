import { createHash, randomBytes } from 'node:crypto';
import { BcryptWorker } from './bcrypt-worker.js';

/** Cost of the decoy hash: htpasswd's and exporter-toolkit's usual 10. */
const DECOY_COST = 10;
/** Verdicts remembered, as exporter-toolkit does (bcrypt is slow by design: ~70 ms at cost 10). */
const CACHE_ENTRIES = 100;

/**
 * HTTP basic auth against bcrypt hashes with exporter-toolkit's behaviour: one bcrypt at a time
 * (each costs tens of milliseconds of CPU, on a worker thread: see bcrypt-worker.ts), verdicts
 * cached per (user, hash, password), the decoy hash for unknown users (a random password's, so the
 * answer to an unknown name takes as long as a known one's and timing does not tell which names
 * exist). The cache is keyed by a SHA-256 of the triple, so no password is kept in memory.
 */
export class BasicAuth {
  private readonly verdicts = new Map<string, boolean>();
  private readonly bcrypt = new BcryptWorker();
  private decoy: Promise<string> | undefined;

  /** Whether the `Authorization` header carries a configured user and its password. */
  async check(users: ReadonlyMap<string, string>, authorization: string | undefined): Promise<boolean> {
    const credentials = parseBasic(authorization);
    if (!credentials) return false;
    const known = users.get(credentials.user);
    const hash = known ?? (await this.decoyHash());
    const key = createHash('sha256')
      .update(`${credentials.user.length}:${credentials.user}\0${hash}\0`)
      .update(credentials.password)
      .digest('hex');
    let ok = this.verdicts.get(key);
    if (ok === undefined) {
      ok = await this.bcrypt.compare(credentials.password, hash);
      this.remember(key, ok);
    }
    return ok && known !== undefined;
  }

  private decoyHash(): Promise<string> {
    this.decoy ??= this.bcrypt.hash(randomBytes(16).toString('hex'), DECOY_COST);
    return this.decoy;
  }

  private remember(key: string, ok: boolean): void {
    if (this.verdicts.size >= CACHE_ENTRIES) this.verdicts.delete(this.verdicts.keys().next().value!);
    this.verdicts.set(key, ok);
  }
}

/** `Basic base64(user:password)`, split at the first colon; anything else is no credentials. */
export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^basic +([A-Za-z0-9+/=]+) *$/i.exec(header ?? '');
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
