/**
 * Text from outside ltc (what was typed, what is stored, what an app logged) shown on a terminal:
 * control characters other than newline and tab, and the bidirectional overrides that reorder
 * what is seen (U+202A–U+202E, U+2066–U+2069), and the characters that show nothing (zero-width
 * spaces, the soft hyphen, fillers, tag characters, a lone surrogate) are written as \u escapes. An
 * escape sequence in a name can then not clear the screen, recolour or forge lines of a report,
 * and two names that look alike on screen are told apart.
 */
import { UsageError } from './errors.js';

// Every control, format (Cf) and default-ignorable character, line and paragraph separators and
// lone surrogates, but newline and tab, and the joiners and emoji variation selectors that scripts
// and emoji need (U+200C, U+200D, U+FE0E, U+FE0F): they hide no text.
const UNPRINTABLE = /(?![\n\t\u200c\u200d\ufe0e\ufe0f])[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\p{Zl}\p{Zp}\p{Cs}]/gu;

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.codePointAt(0) ?? 0;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

// eslint-disable-next-line no-control-regex
const COLOUR = /\u001b\[[0-9;]*m/g;

/**
 * What a child printed (a build, a test runner, a gate): its colours (SGR sequences, which the
 * children are asked for with FORCE_COLOR) are dropped rather than shown as `\u001b[32m`; a line
 * that redraws itself with carriage returns (a progress bar, `10%\r55%\r100%`) shows what a
 * terminal would end on, and a Windows line end loses its `\r`; any other control sequence (clear
 * screen, cursor moves) is escaped as with printable.
 */
export function printableOutput(text: string): string {
  return printable(text.replace(COLOUR, '').split('\n').map(lastRedraw).join('\n'));
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/**
 * Each part written over the one before from the line's start, as a terminal shows it: a shorter
 * part leaves the rest visible (`FAILED: 3 tests\rOK` shows `OKILED: 3 tests`, not a bare `OK`).
 * A line whose parts hold other control characters is left as it is, its CRs escaped with them.
 */
function lastRedraw(line: string): string {
  const parts = line.replace(/\r+$/, '').split('\r');
  if (parts.length === 1 || parts.some((p) => CONTROL.test(p))) return line.replace(/\r+$/, '');
  return parts.reduce((shown, part) => part + shown.slice(part.length), '');
}

/** One line: newlines too are escaped (a value that must not start a line of its own). */
export function printableLine(text: string): string {
  return printable(text).replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}

/**
 * Text that ltc keeps and shows again in every later report (a sign-off's name, an incident title):
 * refused at the door (exit 2) unless it is one line of printable text.
 */
export function plainLine(flag: string, value: string): string {
  if (printableLine(value) !== value) {
    throw new UsageError(`${flag} ${JSON.stringify(value)} holds a control character or a line break`, { hint: `write ${flag} as one line of plain text` });
  }
  return value;
}
