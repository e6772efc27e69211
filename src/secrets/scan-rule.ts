/**
 * A secretlint rule for the shapes of this project's own secrets, loaded by the engine next to
 * @secretlint/secretlint-rule-preset-recommend (by its file path as the rule id):
 *   - `LTC_SECRET_KEY=<32+ bytes of base64url>` (and any `…SECRET_KEY=` of that shape);
 *   - the password in `postgres://user:password@host/db` (DATABASE_URL);
 *   - `…PASSWORD=<value>` assignments;
 *   - the values held in the file secrets store (handed in with `setKnownValues`, not through the
 *     engine's config, so they never appear in secretlint's debug output).
 */
import type { SecretLintRuleCreator, SecretLintSourceCode } from '@secretlint/types';

export const RULE_ID = 'ltc/project-secrets';

/** The finding's rule name by message id (what `ltc secrets scan` shows). */
export const RULE_NAMES: Record<string, string> = {
  SecretKey: 'ltc/secret-key',
  DatabaseUrlPassword: 'ltc/database-url-password',
  PasswordAssignment: 'ltc/password-assignment',
  StoredSecretValue: 'ltc/stored-secret-value',
};

interface Known {
  name: string;
  value: string;
}

let known: Known[] = [];

/** Values of stored secrets to look for (each at least 8 characters). */
export function setKnownValues(values: Known[]): void {
  known = values.filter((v) => v.value.length >= 8);
}

const PLACEHOLDER = /^(\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|<[^>]*>|\*+|x+|X+|\.{3}|changeme|change-me|password|secret|example|your[-_].*|\$\(.*\)|%[A-Za-z_]+%|\{\{.*\}\})$/i;

function isPlaceholder(v: string): boolean {
  return PLACEHOLDER.test(v) || /^(.)\1+$/.test(v);
}

const messages = {
  SecretKey: {
    en: (p: { NAME: string }) => `found a secret key value for ${p.NAME} (32+ random bytes)`,
  },
  DatabaseUrlPassword: {
    en: () => 'found a password in a postgres:// connection URL',
  },
  PasswordAssignment: {
    en: (p: { NAME: string }) => `found a value assigned to ${p.NAME}`,
  },
  StoredSecretValue: {
    en: (p: { NAME: string }) => `found the value of stored secret ${p.NAME}`,
  },
};

const SECRET_KEY = /(?<![A-Za-z0-9_])([A-Z][A-Z0-9_]*SECRET_KEY|SECRET_KEY)["']?\s*[:=]\s*["']?([A-Za-z0-9_-]{43,}={0,2}|[A-Za-z0-9+/]{43,}={0,2})/g;
const DB_URL = /postgres(?:ql)?:\/\/([^:/?#\s@'"]+):([^@\s/'"]+)@/g;
const PASSWORD = /(?<![A-Za-z0-9_])([A-Z][A-Z0-9_]*(?:PASSWORD|PASSWD))["']?\s*[:=]\s*["']?([^\s"'#,;]{12,})/g;

function decodedBytes(v: string): number {
  return Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64').length;
}

export const creator: SecretLintRuleCreator = {
  messages,
  meta: {
    id: RULE_ID,
    type: 'scanner',
    recommended: true,
    supportedContentTypes: ['text'],
    docs: { url: 'https://github.com/lifetimecircle/ltc/blob/main/README.md#scanning' },
  },
  create(context) {
    // Messages are built here without `data`: secretlint's maskSecrets would otherwise hide the NAME too.
    const t = <K extends keyof typeof messages>(id: K, props: { NAME: string } = { NAME: '' }) => ({
      messageId: id,
      message: messages[id].en(props),
      data: {},
    });
    return {
      file(source: SecretLintSourceCode) {
        const text = source.content;
        const reported = new Set<string>();
        const report = (start: number, end: number, message: ReturnType<typeof t>) => {
          const key = `${start}:${end}`;
          if (reported.has(key)) return;
          reported.add(key);
          context.report({ message, range: [start, end] });
        };
        for (const m of text.matchAll(SECRET_KEY)) {
          const value = m[2]!;
          if (decodedBytes(value) < 32) continue;
          const start = m.index + m[0].length - value.length;
          report(start, start + value.length, t('SecretKey', { NAME: m[1]! }));
        }
        for (const m of text.matchAll(DB_URL)) {
          const password = m[2]!;
          if (isPlaceholder(password)) continue;
          const start = m.index + m[0].length - 1 - password.length;
          report(start, start + password.length, t('DatabaseUrlPassword'));
        }
        for (const m of text.matchAll(PASSWORD)) {
          const value = m[2]!;
          if (isPlaceholder(value) || /^(postgres|https?|mysql|redis):/.test(value)) continue;
          const start = m.index + m[0].length - value.length;
          report(start, start + value.length, t('PasswordAssignment', { NAME: m[1]! }));
        }
        for (const k of known) {
          for (let i = text.indexOf(k.value); i >= 0; i = text.indexOf(k.value, i + k.value.length)) {
            report(i, i + k.value.length, t('StoredSecretValue', { NAME: k.name }));
          }
        }
      },
    };
  },
};
