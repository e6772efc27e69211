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
  ]);
  return new Map(modules.map((m: { default: StepType }) => [m.default.name, m.default]));
}
