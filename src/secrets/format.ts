/** Text shapes shared by the secrets commands and their fast path (no heavy imports here). */
import type { SecretDescription } from './backend.js';

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
