/**
 * Where the audit log's HMAC key comes from. createContext registers one function (reading
 * LTC_AUDIT_KEY_FILE, audit.key_file or audit.key_secret lazily, only when an entry is written
 * or verified); code without a context (tests, scripts) falls back to LTC_AUDIT_KEY_FILE.
 * Kept free of imports so registering it costs nothing at startup.
 */
export interface AuditKey {
  /** The key bytes. */
  key: Buffer;
  /** Short public id: the first 16 hex digits of sha256("ltc-audit-key\n" + key). */
  id: string;
  /** Where it came from, for messages (a path or `secret NAME of environment ENV`). */
  source: string;
}

export type AuditKeySource = () => Promise<AuditKey | undefined>;

let registered: AuditKeySource | undefined;

export function registerAuditKeySource(source: AuditKeySource | undefined): void {
  registered = source;
}

/** The configured key, or undefined when none is configured (the log is then written unkeyed). */
export async function currentAuditKey(): Promise<AuditKey | undefined> {
  if (registered) return registered();
  const { keyFromEnvironment } = await import('./key.js');
  return keyFromEnvironment(process.env, process.cwd());
}
