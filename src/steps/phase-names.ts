/** The phases of the `deploy` and `rollback` steps (src/steps/deploy.ts, rollback.ts). */
export const DEPLOY_PHASES = [
  'resolve',
  'lock',
  'confirm',
  'skip_gates',
  'fetch',
  'build',
  'env',
  'pre_switch',
  'restart',
  'health',
  'smoke',
  'log_scan',
  'record',
] as const;
export type DeployPhase = (typeof DEPLOY_PHASES)[number];

export const ROLLBACK_PHASES = ['start', 'choose', 'undo', 'failed'] as const;
