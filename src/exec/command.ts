import { extname } from 'node:path';

export type ShellName = 'bash' | 'pwsh';

/**
 * Wraps an argument array for a shell only when asked. The first element is the script (or a
 * .sh/.ps1 file); the rest are passed as positional arguments, never spliced into the script.
 */
export function withShell(argv: readonly string[], shell: ShellName | undefined): string[] {
  if (!shell) return [...argv];
  const [script = '', ...rest] = argv;
  if (shell === 'bash') {
    return extname(script) === '.sh' ? ['bash', script, ...rest] : ['bash', '-c', script, 'ltc', ...rest];
  }
  return extname(script).toLowerCase() === '.ps1'
    ? ['pwsh', '-NoLogo', '-NoProfile', '-NonInteractive', '-File', script, ...rest]
    : ['pwsh', '-NoLogo', '-NoProfile', '-NonInteractive', '-Command', script, ...rest];
}

/** A command line for humans (logs, dry-run); never executed. */
export function displayCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
