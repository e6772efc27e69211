/**
 * Shapes shared by the secrets commands, the file backend and the fast path of `secrets get`
 * (src/secrets/fast.ts): the file store's format and its readable metadata, and the text of
 * `get`. No imports but node:path, so the fast path stays two modules.
 */
import { join } from 'node:path';
import type { SecretDescription, Stage } from './backend.js';

/** The file store's format tag (also part of the cipher's additional data). */
export const STORE_FORMAT = 'ltc-secrets/1';

export function defaultStorePath(stateDir: string, environment: string): string {
  return join(stateDir, 'secrets', `${environment}.json`);
}

export interface VersionMeta {
  id: string;
  created: string;
  stages: Stage[];
  token?: string;
}

export interface SecretMeta {
  created: string;
  updated: string;
  nextVersion: number;
  versions: VersionMeta[];
}

/** The readable part of the file store. */
export interface StoreMeta {
  secrets: Record<string, SecretMeta>;
}

const STAGE_NAMES: readonly string[] = ['current', 'previous', 'pending'];
const isText = (x: unknown): x is string => typeof x === 'string';

function isVersionMeta(x: unknown): x is VersionMeta {
  if (!x || typeof x !== 'object') return false;
  const v = x as Record<string, unknown>;
  return isText(v.id) && isText(v.created) && Array.isArray(v.stages) && v.stages.every((st) => STAGE_NAMES.includes(st as string)) && (v.token === undefined || isText(v.token));
}

/**
 * Every field of the readable metadata has its type: it is shown without the key (so without the
 * authentication that covers it), and a hand-edited `created: 12345` must read as a damaged
 * store, not crash what prints it.
 */
export function isStoreMeta(v: unknown): v is StoreMeta {
  if (!v || typeof v !== 'object') return false;
  const secrets = (v as { secrets?: unknown }).secrets;
  if (!secrets || typeof secrets !== 'object' || Array.isArray(secrets)) return false;
  return Object.values(secrets).every((s) => {
    if (!s || typeof s !== 'object') return false;
    const m = s as Record<string, unknown>;
    return isText(m.created) && isText(m.updated) && Number.isSafeInteger(m.nextVersion) && Array.isArray(m.versions) && m.versions.every(isVersionMeta);
  });
}

/** The store's fields are all there and of the right type (says nothing about the key or the ciphertext). */
export function isStoreEnvelope(v: unknown): v is { format: typeof STORE_FORMAT; meta: StoreMeta } {
  if (!v || typeof v !== 'object') return false;
  const e = v as Record<string, unknown>;
  const kdf = e.kdf as Record<string, unknown> | undefined;
  return (
    e.format === STORE_FORMAT &&
    typeof e.keyCheck === 'string' &&
    typeof e.iv === 'string' &&
    typeof e.tag === 'string' &&
    typeof e.data === 'string' &&
    isStoreMeta(e.meta) &&
    !!kdf &&
    (kdf.name === 'raw' ||
      (kdf.name === 'scrypt' && typeof kdf.salt === 'string' && typeof kdf.N === 'number' && typeof kdf.r === 'number' && typeof kdf.p === 'number'))
  );
}

export function describeMeta(name: string, s: SecretMeta): SecretDescription {
  return {
    name,
    created: s.created,
    updated: s.updated,
    versions: s.versions.map((v) => ({ id: v.id, stages: [...v.stages], created: v.created, ...(v.token ? { token: v.token } : {}) })),
  };
}

export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export function short(iso: string | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}

/** `ltc secrets get <NAME>` without --reveal: data and text. */
export function describeResult(
  environment: string,
  backend: { kind: string; location: string },
  d: SecretDescription,
  required: boolean,
): { data: Record<string, unknown>; text: string } {
  const rows = [['VERSION', 'STAGES', 'CREATED']];
  for (const v of d.versions) rows.push([v.id, v.stages.length ? v.stages.join(',') : '-', short(v.created)]);
  return {
    data: { environment, backend: backend.kind, secret: d, required },
    text: `${d.name} (${environment}, ${backend.location})\n${table(rows)}\nthe value is not shown; add --reveal to print it`,
  };
}
