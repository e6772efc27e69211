import type { StepType } from './step-type.js';

/**
 * Every step type. A new type is one file under src/steps/ and one line here.
 * Each module default-exports its StepType.
 */
export async function loadStepTypes(): Promise<Map<string, StepType>> {
  const modules = await Promise.all([
    import('../steps/run.js'),
    import('../steps/script.js'),
    import('../steps/http.js'),
    import('../steps/confirm.js'),
    import('../steps/wait.js'),
    import('../steps/assert.js'),
    import('../steps/runbook.js'),
    import('../steps/gate.js'),
    import('../steps/secret.js'),
    import('../steps/deploy.js'),
    import('../steps/switch.js'),
    import('../steps/rollback.js'),
    import('../steps/check.js'),
    import('../steps/backup.js'),
    import('../steps/watch.js'),
  ]);
  const types = new Map(modules.map((m: { default: StepType }) => [m.default.name, m.default]));
  for (const [name, type] of extra) types.set(name, type);
  return types;
}

const extra = new Map<string, StepType>();
let version = 0;

/**
 * Adds a step type at run time (embedding ltc, tests). Built-in types are listed above instead;
 * types added here are not in the shipped JSON Schema.
 */
export function registerStepType(type: StepType): void {
  extra.set(type.name, type);
  version++;
}

/** Changes whenever a step type is registered (caches of the runbook schema key on it). */
export function registryVersion(): number {
  return version;
}

let typesPromise: { version: number; types: Promise<Map<string, StepType>> } | undefined;
/** The registered step types (loaded once per registry version). */
export function stepTypes(): Promise<Map<string, StepType>> {
  if (typesPromise?.version !== version) typesPromise = { version, types: loadStepTypes() };
  return typesPromise.types;
}
