import { defineConfig } from 'vitest/config';

/**
 * Two tiers. `unit`: ltc runs in the test worker through `main(argv, env, io)` (test/helpers/inproc.ts)
 * or its modules are called directly — usage, validation, expressions, masking, planning, rendering.
 * `e2e`: everything else spawns the built binary, because processes, signals, locks, deploys or real
 * servers are the point. A new file is e2e until it is listed here.
 */
const UNIT = [
  'test/process-port.test.ts',
  'test/fleet-stop-unit.test.ts',
  'test/fleet-config.test.ts',
  'test/incident-contacts.test.ts',
  'test/bad-input.test.ts',
  'test/one-pass-pattern.test.ts',
  'test/unreadable-state.test.ts',
  'test/actor-escape.test.ts',
  'test/fleet-health-unit.test.ts',
  'test/log-scan-unit.test.ts',
  'test/printable-unit.test.ts',
  'test/quick-parse-unit.test.ts',
  'test/net-unit.test.ts',
  'test/cli-messages.test.ts',
  'test/config-unquoted.test.ts',
  'test/config.test.ts',
  'test/diff-check-gate.test.ts',
  'test/fuzz.test.ts',
  'test/gates-review.test.ts',
  'test/health-cli.test.ts',
  'test/health.test.ts',
  'test/history-tail.test.ts',
  'test/masker-encodings.test.ts',
  'test/run-step-secret-args.test.ts',
  'test/run-step-shell-splice.test.ts',
  'test/runbook-api.test.ts',
  'test/runbook-cache.test.ts',
  'test/runbook-expr.test.ts',
  'test/runbook-masking.test.ts',
  'test/runbook-resume-secret.test.ts',
  'test/runbook-run.test.ts',
  'test/runbook-schema.test.ts',
  'test/runbook-steps.test.ts',
  'test/runbook-validate.test.ts',
  'test/secrets-backends-hardening.test.ts',
  'test/secrets-backends.test.ts',
  'test/secrets-file.test.ts',
  'test/secrets-scan.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Most e2e time is spent waiting on spawned processes and servers: on the 2-core CI machine two
    // workers took the suite from 583 s to 423 s (vitest's default there is one), three from 220 s
    // to 173 s (2026-12-08).
    maxWorkers: 3,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      { extends: true, test: { name: 'e2e', include: ['test/**/*.test.ts'], exclude: UNIT } },
    ],
  },
});
