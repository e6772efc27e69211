/**
 * `secret`: a secret of the environment's backend in a runbook.
 *   secret: { name: LTC_SECRET_KEY, stage: pending, env_file: /srv/ltc/shared/.env }
 * Actions: `read` (default) reads a version by stage or id — its value is registered with the
 * masker at once (journals, logs and outputs show ***) and, with `env_file`, written into that
 * file as NAME=value (mode 0600, other lines kept, atomically); `verify` checks it exists and
 * meets its policy; `rotate` runs the four-step rotation (`ltc secrets rotate`).
 * Outputs: version, value (masked everywhere it is printed or journaled), env_file.
 * Every read is recorded in the audit log with the run and step.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { CheckFailedError, ConfigError } from '../core/errors.js';
import { defineStep, type StepContext } from '../runbook/step-type.js';

const secretSpec = z.strictObject({
  name: z
    .string()
    .min(1)
    .refine((n) => n.includes('${{') || /^[A-Z][A-Z0-9_]*$/.test(n), { message: 'a secret name is upper case letters, digits and _, starting with a letter (e.g. LTC_SECRET_KEY)' })
    .describe('secret name, e.g. LTC_SECRET_KEY'),
  action: z.enum(['read', 'verify', 'rotate']).default('read').describe('read (default), verify (exists and meets policy) or rotate'),
  stage: z.enum(['current', 'pending', 'previous']).default('current').describe('which version to read'),
  version: z.string().optional().describe('a version id instead of a stage'),
  environment: z.string().optional().describe('the environment whose secrets to use (default: --env)'),
  env_file: z.string().optional().describe('write NAME=value into this env file (mode 0600; other lines kept); empty: none'),
});

type SecretSpec = z.output<typeof secretSpec>;

/** A value as one env-file line: bare when it is safe, else double-quoted with escapes. */
export function envLine(name: string, value: string): string {
  if (/^[A-Za-z0-9_\-.~+=,:!*^/@%]*$/.test(value)) return `${name}=${value}`;
  return `${name}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '\\$').replace(/\n/g, '\\n')}"`;
}

/** Replaces (or appends) NAME=… in an env file's text. */
export function setEnvLine(text: string, name: string, value: string): string {
  const lines = text.length ? text.replace(/\n$/, '').split('\n') : [];
  const re = new RegExp(`^\\s*(export\\s+)?${name}\\s*=`);
  const line = envLine(name, value);
  const at = lines.findIndex((l) => re.test(l));
  if (at >= 0) lines[at] = line;
  else lines.push(line);
  return lines.join('\n') + '\n';
}

async function scopeFor(spec: SecretSpec, step: StepContext) {
  const { openScope } = await import('../secrets/service.js');
  const ctx = spec.environment ? { ...step.ctx, options: { ...step.ctx.options, env: spec.environment } } : step.ctx;
  return openScope(ctx);
}

function describeSpec(spec: SecretSpec): string {
  const which = spec.version ? `version ${spec.version}` : spec.stage;
  const where = spec.environment ? ` of ${spec.environment}` : '';
  if (spec.action === 'verify') return `verify ${spec.name}${where}`;
  if (spec.action === 'rotate') return `rotate ${spec.name}${where}`;
  return `read ${spec.name} (${which})${where}${spec.env_file ? ` into ${spec.env_file}` : ''}`;
}

export default defineStep({
  name: 'secret',
  description: 'read a secret (optionally into an env file), verify it, or rotate it',
  schema: secretSpec,
  outputs: ['version', 'value', 'env_file'],
  preflight(spec) {
    if (!spec.name.includes('${{') && !/^[A-Z][A-Z0-9_]*$/.test(spec.name)) {
      throw new ConfigError(`secret step: "${spec.name}" is not a secret name`, { hint: 'secret names are upper case, e.g. LTC_SECRET_KEY' });
    }
  },
  plan(spec) {
    return [{ action: 'secret', detail: describeSpec(spec), writes: spec.action === 'rotate' || !!spec.env_file }];
  },
  async run(spec, step) {
    const scope = await scopeFor(spec, step);
    try {
      const via = { runbook: step.runbook.name, runId: step.runId, step: step.stepId };
      if (spec.action === 'rotate') {
        const { rotateSecret } = await import('../secrets/rotate.js');
        const r = await rotateSecret(scope, spec.name);
        return { outputs: { version: r.current ?? null, value: null, env_file: null }, summary: `rotated, version ${r.current} is current` };
      }
      const { audited } = await import('../secrets/service.js');
      const select = spec.version ? { versionId: spec.version } : { stage: spec.stage };
      const v = await audited(
        scope,
        { action: 'secret.read', secret: spec.name, details: { purpose: spec.action === 'verify' ? 'verify' : spec.env_file ? 'write env file' : 'runbook', ...select, ...via } },
        () => scope.backend.getValue(spec.name, select),
        (x) => x.versionId,
      );
      if (spec.action === 'verify') {
        const { policyProblems } = await import('../secrets/generate.js');
        const problems = policyProblems(spec.name, v.value, scope.policy(spec.name));
        if (problems.length) throw new CheckFailedError(`${spec.name} does not meet its policy: ${problems.join('; ')}`, { hint: `replace it: ltc secrets generate ${spec.name}` });
        return { outputs: { version: v.versionId, value: null, env_file: null }, summary: `${spec.name} ok (version ${v.versionId})` };
      }
      let envFile: string | null = null;
      if (spec.env_file) {
        envFile = isAbsolute(spec.env_file) ? spec.env_file : resolve(step.ctx.cwd, spec.env_file);
        const { writeFileAtomic } = await import('../core/fs-atomic.js');
        const before = await readFile(envFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return '';
          throw new CheckFailedError(`cannot read env file ${envFile}: ${err.code ?? err.message}`);
        });
        await writeFileAtomic(envFile, setEnvLine(before, spec.name, v.value), 0o600);
        step.log(`wrote ${spec.name} (version ${v.versionId}) into ${envFile}`);
      }
      return {
        outputs: { version: v.versionId, value: v.value, env_file: envFile },
        summary: `${spec.name} version ${v.versionId}${envFile ? ` → ${envFile}` : ''}`,
      };
    } finally {
      await scope.backend.close?.();
    }
  },
});
