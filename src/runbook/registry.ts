import { loaded, type LoadedStepType, type StepType } from './step-type.js';

type StepModule = Promise<{ default: StepType }>;

/**
 * Every step type by name. A new type is one file under src/steps/ and one line here.
 * Each module default-exports its StepType (of the same name).
 */
const BUILT_IN: Record<string, () => StepModule> = {
  run: () => import('../steps/run.js'),
  script: () => import('../steps/script.js'),
  http: () => import('../steps/http.js'),
  confirm: () => import('../steps/confirm.js'),
  wait: () => import('../steps/wait.js'),
  assert: () => import('../steps/assert.js'),
  runbook: () => import('../steps/runbook.js'),
  gate: () => import('../steps/gate.js'),
  secret: () => import('../steps/secret.js'),
  deploy: () => import('../steps/deploy.js'),
  switch: () => import('../steps/switch.js'),
  rollback: () => import('../steps/rollback.js'),
  check: () => import('../steps/check.js'),
  backup: () => import('../steps/backup.js'),
  watch: () => import('../steps/watch.js'),
};

/** Every step type with its schema (validating a runbook, the generated schema and docs). */
export async function loadStepTypes(): Promise<Map<string, LoadedStepType>> {
  const modules = await Promise.all(Object.values(BUILT_IN).map((load) => load()));
  const all = [...modules.map((m) => m.default), ...extra.values()];
  const types = await Promise.all(all.map(loaded));
  return new Map(types.map((t) => [t.name, t]));
}

/**
 * Only the named types (a cached runbook knows which it uses; most modules build their zod schema
 * when they load, the deploy and rollback phases when a value needs it). A name that is neither
 * built in nor registered is left out.
 */
export async function stepTypesNamed(names: Iterable<string>): Promise<Map<string, StepType>> {
  const wanted = [...new Set(names)];
  const types = new Map<string, StepType>();
  await Promise.all(
    wanted.map(async (name) => {
      const type = extra.get(name) ?? (Object.hasOwn(BUILT_IN, name) ? (await BUILT_IN[name]!()).default : undefined);
      if (type) types.set(name, type);
    }),
  );
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

let typesPromise: { version: number; types: Promise<Map<string, LoadedStepType>> } | undefined;
/** The registered step types (loaded once per registry version). */
export function stepTypes(): Promise<Map<string, LoadedStepType>> {
  if (typesPromise?.version !== version) typesPromise = { version, types: loadStepTypes() };
  return typesPromise.types;
}
