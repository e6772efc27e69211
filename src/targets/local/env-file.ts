/**
 * The env file format (`shared/.env`): NAME=value lines, a value double-quoted with \\ \" \$ \n
 * escapes when it holds anything but plain characters — the format the `secret` step writes.
 */

/** One NAME=value line. */
export function formatEnvLine(name: string, value: string): string {
  if (/^[A-Za-z0-9_\-.~+=,:!*^/@%]*$/.test(value)) return `${name}=${value}`;
  return `${name}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '\\$').replace(/\n/g, '\\n')}"`;
}

export function formatEnvFile(values: ReadonlyMap<string, string>): string {
  const lines = ['# Written by ltc from the secret backend. Do not edit: the next deploy rewrites it.'];
  for (const [name, value] of values) lines.push(formatEnvLine(name, value));
  return lines.join('\n') + '\n';
}

function unquote(raw: string): string {
  const v = raw.trim();
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) {
    return v.slice(1, -1).replace(/\\(["\\$n])/g, (_, ch: string) => (ch === 'n' ? '\n' : ch));
  }
  if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1);
  return v;
}

/** Parses NAME=value lines (`export ` allowed, # comments and blank lines ignored). */
export function parseEnvFile(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(line);
    if (!m) continue;
    values.set(m[1]!, unquote(m[2]!));
  }
  return values;
}
