import type { CommandResult } from '../cli/define.js';
import type { Context } from '../core/context.js';

export async function validateConfig(ctx: Context): Promise<CommandResult> {
  const loaded = await ctx.config();
  const envs = Object.keys(loaded.config.environments);
  return {
    data: { file: loaded.file, environments: envs, gates: loaded.config.gates.map((g) => g.name) },
    text: `${loaded.file}: valid (${envs.length} environment${envs.length === 1 ? '' : 's'}: ${envs.join(', ') || 'none'}; ${loaded.config.gates.length} gates)`,
  };
}

export async function showConfig(ctx: Context): Promise<CommandResult> {
  const { name, env, loaded } = await ctx.environment();
  const { environments: _all, ...rest } = loaded.config;
  const shown = { ...rest, environment: { name, ...env } };
  // A static import: yaml is CommonJS, and a dynamic import() of it in the bundle has no named exports.
  const { stringify } = await import('./yaml-stringify.js');
  return { data: { file: loaded.file, config: shown }, text: `# ${loaded.file}, environment ${name}\n${stringify(shown)}` };
}
