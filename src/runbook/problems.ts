/**
 * One ConfigError for a list of runbook problems, each on its own line with its file:line:column.
 * A problem's hint (a did-you-mean, what to write instead) goes under that problem when more than
 * one problem has a hint, so none of them is lost; a single hint is the error's hint.
 */
import { ConfigError } from '../core/errors.js';

export interface ProblemLine {
  /** `file:line:column: what is wrong` as printed. */
  text: string;
  hint?: string | undefined;
}

export function problemsError(head: string, lines: readonly ProblemLine[], fallbackHint: string, details: Record<string, unknown>): ConfigError {
  const hints = lines.filter((l) => l.hint);
  const inline = hints.length > 1;
  const body = lines.map((l) => (inline && l.hint ? `${l.text}\n      (${l.hint.replace(/\n/g, '\n       ')})` : l.text));
  return new ConfigError(`${head}\n  ${body.join('\n  ')}`, {
    hint: inline ? `each problem's hint is under it; ${fallbackHint}` : (hints[0]?.hint ?? fallbackHint),
    details,
  });
}
