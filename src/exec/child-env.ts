/**
 * The one place that decides what environment a child process of ltc gets. Gates, their
 * `npm ci`, runbook `run`/`script` steps, build/smoke/hook commands, the app's start command,
 * git and tar all start with an allow-listed part of ltc's environment plus what the config or
 * the step gives them explicitly (`env:`). ltc's own credentials (LTC_MASTER_KEY, VAULT_TOKEN,
 * AWS_SECRET_ACCESS_KEY, …) are never in that list: a release candidate's code cannot read them.
 * Pass one on purpose with `env: { NAME: "${{ env.NAME }}" }` (it is masked in what it prints).
 */
import type { Masker } from '../core/masker.js';

/** Variables a child sees from ltc's environment (when set there). */
export const CHILD_ENV_ALLOW: readonly string[] = [
  // where programs are and who runs them
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'HOSTNAME',
  // language, terminal, time
  'LANG', 'LANGUAGE', 'TERM', 'COLORTERM', 'NO_COLOR', 'FORCE_COLOR', 'TZ',
  // temp and per-user folders
  'TMPDIR', 'TMP', 'TEMP', 'XDG_CACHE_HOME', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_RUNTIME_DIR',
  // CI detection (tools print plainly in CI), TLS trust
  'CI', 'SSL_CERT_FILE', 'SSL_CERT_DIR',
  // the network proxy (a password in its URL is registered with the masker)
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy',
  // Windows basics (pwsh)
  'SYSTEMROOT', 'SystemRoot', 'COMSPEC', 'PATHEXT', 'WINDIR', 'USERPROFILE', 'APPDATA', 'LOCALAPPDATA', 'PROGRAMDATA',
];

/** Prefixes of allowed variables (`LC_*`, `NODE_*`, `npm_config_*`), unless the name looks like a credential. */
export const CHILD_ENV_ALLOW_PREFIXES: readonly string[] = ['LC_', 'NODE_', 'npm_config_', 'NPM_CONFIG_'];

/** Only for git (ltc's own fetches of the app repo): its agent socket, ssh command and GIT_* settings. */
const GIT_ALLOW: readonly string[] = ['SSH_AUTH_SOCK', 'SSH_ASKPASS', 'DISPLAY', 'GNUPGHOME'];
const GIT_ALLOW_PREFIXES: readonly string[] = ['GIT_'];

/** ltc's own credentials, by name: never passed on, registered with the masker when ltc starts. */
export const LTC_CREDENTIALS: readonly string[] = [
  'LTC_MASTER_KEY',
  'VAULT_TOKEN',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
];

/** Names that say "credential": never passed on by a prefix rule, and their values are masked. */
const CREDENTIAL_NAME = /TOKEN|SECRET|PASSW|PASSPHRASE|CREDENTIAL|PRIVATE|_KEY$|^KEY$|_AUTH|AUTH_|COOKIE/i;

export function isCredentialName(name: string): boolean {
  return LTC_CREDENTIALS.includes(name) || CREDENTIAL_NAME.test(name);
}

export type ChildProfile = 'default' | 'git';

function allowed(name: string, profile: ChildProfile): boolean {
  if (profile === 'git' && GIT_ALLOW.includes(name)) return true;
  if (isCredentialName(name)) return false;
  if (CHILD_ENV_ALLOW.includes(name)) return true;
  if (CHILD_ENV_ALLOW_PREFIXES.some((p) => name.startsWith(p))) return true;
  if (profile === 'git') return GIT_ALLOW_PREFIXES.some((p) => name.startsWith(p));
  return false;
}

/**
 * The environment of a child: the allowed part of `base` (ltc's environment), then `explicit`
 * on top (a value of `undefined` removes a variable). `explicit` is what the config or the
 * step gave: it may name anything, ltc's credentials included, because a person wrote it.
 */
export function childEnv(
  base: NodeJS.ProcessEnv,
  explicit?: Readonly<Record<string, string | undefined>>,
  profile: ChildProfile = 'default',
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name in base) {
    const value = base[name];
    if (value !== undefined && allowed(name, profile)) env[name] = value;
  }
  if (explicit) {
    for (const name in explicit) {
      const value = explicit[name];
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
  }
  return env;
}

/** Values of credential-named variables shorter than this are not masked (`X_TOKEN=1` would mask every "1"). */
const MIN_CREDENTIAL_LENGTH = 8;

/**
 * ltc's credentials found in `env`: the named ones (LTC_MASTER_KEY, VAULT_TOKEN,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), every variable whose name says credential (…_TOKEN,
 * …_SECRET, …_PASSWORD, …_KEY) with a value of 8 characters or more, and the password in a proxy URL.
 */
export function credentialValues(env: NodeJS.ProcessEnv): string[] {
  const found: string[] = [];
  for (const name in env) {
    const value = env[name];
    if (!value) continue;
    if (LTC_CREDENTIALS.includes(name)) {
      found.push(value);
      if (value.trim() !== value) found.push(value.trim());
    } else if (CREDENTIAL_NAME.test(name) && value.length >= MIN_CREDENTIAL_LENGTH && !/^\/|^[A-Za-z]:\\/.test(value)) {
      found.push(value);
    } else if (/_proxy$/i.test(name)) {
      try {
        const password = new URL(value).password;
        if (password) found.push(decodeURIComponent(password));
      } catch {
        /* not a URL */
      }
    }
  }
  return found;
}

/** Registers every credential in `env` with the masker; called once when ltc starts, before any command runs. */
export function registerCredentials(env: NodeJS.ProcessEnv, masker: Masker): void {
  for (const value of credentialValues(env)) masker.add(value);
}
