/** What expressions read: inputs, step results, the environment and the config. */
import { ConfigError } from '../core/errors.js';
import { UNKNOWN, type MaybeValue, type Resolver } from './expr.js';
import type { StepStatus } from './journal.js';
import { where, type Runbook } from './model.js';
import { collectExpressions, refsIn } from './refs.js';
import type { OutputValue } from './step-type.js';

export interface StepResultState {
  status: StepStatus;
  outputs: Record<string, OutputValue>;
}

export interface ScopeData {
  inputs: Readonly<Record<string, OutputValue>>;
  results: Pick<ReadonlyMap<string, StepResultState>, 'get'>;
  env: NodeJS.ProcessEnv;
  /** The loaded config (plain data); undefined when the runbook reads no config. */
  config?: unknown;
  /** Planning (--dry-run): step results are not known yet. */
  planning?: boolean;
}

function lookup(value: unknown, path: readonly string[]): { found: boolean; value: unknown } {
  let v = value;
  for (const p of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, p)) return { found: false, value: undefined };
    v = (v as Record<string, unknown>)[p];
  }
  return { found: true, value: v };
}

function asValue(v: unknown): OutputValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return JSON.stringify(v);
}

export function makeResolver(data: ScopeData): Resolver {
  return (path): MaybeValue => {
    const [ns, a, b, c] = path;
    switch (ns) {
      case 'inputs':
        return Object.hasOwn(data.inputs, a!) ? asValue(data.inputs[a!]) : null;
      case 'env':
        return Object.hasOwn(data.env, a!) ? asValue(data.env[a!]) : null;
      case 'config':
        return asValue(lookup(data.config, path.slice(1)).value);
      case 'steps': {
        const r = data.results.get(a!);
        if (!r) return data.planning ? UNKNOWN : b === 'status' ? 'not-run' : null;
        if (b === 'status') return r.status;
        return Object.hasOwn(r.outputs, c!) ? asValue(r.outputs[c!]) : null;
      }
      default:
        return null;
    }
  };
}

/** Does the runbook read `config.…` anywhere? */
export function readsConfig(rb: Runbook): boolean {
  return collectExpressions(rb).found.some((f) => refsIn(f).some((r) => r.path[0] === 'config'));
}

/** Every `config.…` reference must exist in the loaded config; checked before anything runs. */
export function checkConfigRefs(rb: Runbook, config: unknown, configFile: string): void {
  const problems: string[] = [];
  for (const f of collectExpressions(rb).found) {
    for (const r of refsIn(f)) {
      if (r.path[0] !== 'config') continue;
      if (!lookup(config, r.path.slice(1)).found) problems.push(`${where(rb, f.path)}: ${r.path.join('.')} is not set in ${configFile}`);
    }
  }
  if (problems.length) {
    throw new ConfigError(`runbook ${rb.file} reads config keys that are not set:\n  ${problems.join('\n  ')}`, {
      hint: `set them in ${configFile} (\`ltc config show\` prints the resolved config)`,
    });
  }
}
