import type { StepType } from './step-type.js';

/**
 * Every step type. A new type is one file under src/steps/ and one line here.
 * Each module default-exports its StepType.
 */
export async function loadStepTypes(): Promise<Map<string, StepType>> {
  const modules = await Promise.all([
    // step types register here, e.g. import('../steps/run.js'),
    import('../steps/gate.js'),
  ]);
  return new Map(modules.map((m: { default: StepType }) => [m.default.name, m.default]));
}
