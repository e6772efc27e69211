/** Picks the renderer: listr2 in a colour TTY, plain lines otherwise, only the result with --json. */
import type { Context } from '../../core/context.js';
import { printableOutput } from '../../core/printable.js';
import { plainReporter } from './plain.js';
import { printableReporter, type Reporter } from './types.js';

export type RenderMode = 'auto' | 'plain' | 'listr' | 'silent';

export async function chooseReporter(ctx: Context, mode: RenderMode = 'auto'): Promise<Reporter> {
  return printableReporter(await chosen(ctx, mode), printableOutput);
}

async function chosen(ctx: Context, mode: RenderMode): Promise<Reporter> {
  const verbose = ctx.options.verbose || ctx.options.debug;
  if (mode === 'silent' || ctx.options.json) return plainReporter(ctx.out, { verbose, quiet: true });
  // A pseudo-terminal without a size (`script` without stty, some CI runners) reports 0
  // columns; listr2 would wrap every character onto its own line.
  const sized = (process.stdout.columns ?? 0) > 0;
  const tty = ctx.isTTY && ctx.out.color && !verbose && sized;
  if (mode === 'listr' || (mode === 'auto' && tty)) {
    const { listrReporter } = await import('./listr.js');
    return listrReporter(ctx.out, (text) => ctx.masker.mask(text));
  }
  return plainReporter(ctx.out, { verbose, quiet: false });
}
