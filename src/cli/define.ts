import type { Context } from '../core/context.js';

export interface ArgDef {
  name: string;
  description: string;
  required?: boolean;
  variadic?: boolean;
}

export interface OptionDef {
  /** commander flags, e.g. `--rc <tag>` or `--only <name...>`. */
  flags: string;
  description: string;
  default?: string | boolean | string[];
  /** Repeatable (`--input a=1 --input b=2`): values collect into an array. */
  repeatable?: boolean;
}

export interface CommandResult {
  /** Merged into the --json document (`{"ok": …, ...data}`). */
  data?: Record<string, unknown>;
  /** Human text for stdout; omitted with --json. */
  text?: string;
  /** Defaults to 0. A non-zero code means `ok: false` in --json. */
  exitCode?: number;
}

export interface CommandInput<A, O> {
  args: A;
  options: O;
}

export interface CommandDef<A = Record<string, string | string[] | undefined>, O = Record<string, unknown>> {
  /** Words after `ltc`, e.g. ['config', 'validate']. */
  path: string[];
  description: string;
  args?: ArgDef[];
  options?: OptionDef[];
  examples?: string[];
  /** Implementation imported lazily inside the handler, so --help loads none of it. */
  handler(input: CommandInput<A, O>, ctx: Context): Promise<CommandResult | void>;
}

export interface CommandGroup {
  name: string;
  description: string;
  commands: CommandDef[];
}

/** Typed at the definition site; the framework hands the parsed values through untyped. */
export function defineCommand<A, O>(def: CommandDef<A, O>): CommandDef {
  return def as unknown as CommandDef;
}
