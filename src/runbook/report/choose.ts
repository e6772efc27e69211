/** Picks the renderer: listr2 in a colour TTY, plain lines otherwise, only the result with --json. */
import type { Context } from '../../core/context.js';
import { plainReporter } from './plain.js';
import type { Reporter } from './types.js';

export type RenderMode = 'auto' | 'plain' | 'listr' | 'silent';

export async function chooseReporter(ctx: Context, mode: RenderMode = 'auto'): Promise<Reporter> {
  const verbose = ctx.options.verbose || ctx.options.debug;
  if (mode === 'silent' || ctx.options.json) return plainReporter(ctx.out, { verbose, quiet: true });
  const tty = ctx.isTTY && ctx.out.color && !verbose;
  if (mode === 'listr' || (mode === 'auto' && tty)) {
    const { listrReporter } = await import('./listr.js');
    return listrReporter(ctx.out);
  }
  return plainReporter(ctx.out, { verbose, quiet: false });
}
