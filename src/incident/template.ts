/** The templates of templates/ (an ops repo may override one with templates/<name> next to its config). */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';

/** The text of template `name`: `<configDir>/templates/<name>` when it exists, else ltc's own. */
export async function loadTemplate(name: string, configDir?: string): Promise<{ text: string; file: string }> {
  const own = configDir ? join(configDir, 'templates', name) : undefined;
  const file = own && existsSync(own) ? own : join(packageRoot(), 'templates', name);
  return { text: await readFile(file, 'utf8'), file };
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Markdown inline text: characters that would start markup are backslash-escaped, < and > too. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]|<>~]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : `\\${c}`)).replace(/\r?\n/g, ' ');
}

/**
 * Fills `{{name}}` with `values[name]` passed through `escape`, and `{{{name}}}` unescaped (for
 * blocks ltc built itself). An unknown name is left as it is, so a typo shows in the output.
 */
export function render(template: string, values: Record<string, string>, escape: (s: string) => string = (s) => s): string {
  return template.replace(/\{\{\{\s*([a-z_]+)\s*\}\}\}|\{\{\s*([a-z_]+)\s*\}\}/g, (all, raw: string | undefined, esc: string | undefined) => {
    const key = (raw ?? esc)!;
    const v = values[key];
    if (v === undefined) return all;
    return raw ? v : escape(v);
  });
}
