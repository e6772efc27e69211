/**
 * `backup`: an encrypted pg_dump of the environment's database (ltc backup create), e.g. before
 * the switch of a deploy to a protected environment. An environment without a database: section
 * is skipped (summary says so) unless `required: true`.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { defineStep } from '../runbook/step-type.js';

export default defineStep({
  name: 'backup',
  description: "encrypted backup of the environment's PostgreSQL database (ltc backup create)",
  schema: z.strictObject({ environment: z.string().min(1), required: z.boolean().default(false) }),
  outputs: ['id', 'size', 'duration_ms'],
  plan(spec) {
    return [{ action: 'backup', detail: `pg_dump of ${spec.environment}'s database, encrypted`, writes: true }];
  },
  async run(spec, step) {
    const loaded = await step.ctx.config();
    const env = loaded.config.environments[spec.environment];
    if (!env?.database?.backup) {
      if (spec.required) throw new ConfigError(`environment "${spec.environment}" has no database.backup: section`, { hint: 'configure database.backup or drop required' });
      return { outputs: { id: null, size: 0, duration_ms: 0 }, summary: 'no database configured: skipped' };
    }
    const { openBackupScope, createBackup } = await import('../backup/backup.js');
    const { appendAudit } = await import('../audit/log.js');
    const s = await openBackupScope(step.ctx, spec.environment);
    try {
      const b = await createBackup(s);
      await appendAudit(s.stateDir, { action: 'backup.create', outcome: 'ok', environment: s.environment, details: { id: b.id, size: b.size, sha256: b.sha256, runId: step.runId } });
      step.log(`backup ${b.id}: ${b.size} bytes in ${b.durationMs}ms`);
      return { outputs: { id: b.id, size: b.size, duration_ms: b.durationMs }, summary: `${b.id} (${b.size} bytes)` };
    } finally {
      await s.close();
    }
  },
});
