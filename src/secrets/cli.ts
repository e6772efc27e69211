/**
 * The `ltc secrets …` commands (list, get, set, generate, rollback, verify, audit). Each takes
 * the parsed options and the context and returns `{ data, text, exitCode }`. No value is ever
 * part of `data` or `text`; `get --reveal` writes the value itself, unmasked, to stdout only.
 */
import type { CommandResult } from '../cli/define.js';
import type { Context } from '../core/context.js';
import { CheckFailedError, UsageError } from '../core/errors.js';
import { readAudit, type AuditEntry } from '../audit/log.js';
import { checkSecretName, SECRET_NAME, STAGES, versionWith, UnknownSecretError, type SecretDescription, type Stage } from './backend.js';
import { generateSecret, policyProblems } from './generate.js';
import { audited, openScope, type SecretsScope } from './service.js';
import { parseSince } from './since.js';
import { describeResult, short, table } from './format.js';

export { table } from './format.js';

function idOf(desc: SecretDescription, stage: Stage): string {
  return versionWith(desc, stage)?.id ?? '-';
}

async function withScope<T>(ctx: Context, fn: (scope: SecretsScope) => Promise<T>): Promise<T> {
  const scope = await openScope(ctx);
  try {
    return await fn(scope);
  } finally {
    await scope.backend.close?.();
  }
}

// ---------------------------------------------------------------- list

export async function listSecrets(ctx: Context): Promise<CommandResult> {
  return withScope(ctx, async (scope) => {
    const secrets = await scope.backend.list();
    const stored = new Set(secrets.map((s) => s.name));
    const required = scope.config.required.map((p) => p.name);
    const missing = required.filter((n) => !stored.has(n));
    const rows = [['NAME', 'CURRENT', 'PREVIOUS', 'PENDING', 'UPDATED', 'REQUIRED']];
    for (const s of secrets) {
      if (s.scheduledForDeletion) rows.push([s.name, `SCHEDULED FOR DELETION (since ${short(s.scheduledForDeletion)})`, '-', '-', short(s.updated), required.includes(s.name) ? 'yes' : '']);
      else rows.push([s.name, idOf(s, 'current'), idOf(s, 'previous'), idOf(s, 'pending'), short(s.updated), required.includes(s.name) ? 'yes' : '']);
    }
    for (const n of missing) rows.push([n, 'MISSING', '-', '-', '-', 'yes']);
    const deleting = secrets.filter((s) => s.scheduledForDeletion).map((s) => s.name);
    const restoreHint = deleting.length
      ? `\n${deleting.join(', ')} ${deleting.length === 1 ? 'is' : 'are'} scheduled for deletion and unusable until restored: aws secretsmanager restore-secret --secret-id <id> (RestoreSecret, or "Cancel deletion" in the console)`
      : '';
    const head = `${scope.environment}: ${scope.backend.location}`;
    return {
      data: {
        environment: scope.environment,
        backend: scope.backend.kind,
        location: scope.backend.location,
        secrets: secrets.map((s) => ({ ...s, required: required.includes(s.name) })),
        missing,
        scheduledForDeletion: deleting,
      },
      text: secrets.length || missing.length ? `${head}\n${table(rows)}${restoreHint}` : `${head}\nno secrets stored yet (add one with \`ltc secrets generate <NAME>\` or \`ltc secrets set <NAME>\`)`,
    };
  });
}

// ---------------------------------------------------------------- get

export interface GetOptions {
  reveal?: boolean;
  stage?: string;
  versionId?: string;
}

function stageOption(stage: string | undefined): Stage | undefined {
  if (stage === undefined) return undefined;
  if (!(STAGES as readonly string[]).includes(stage)) {
    throw new UsageError(`--stage ${JSON.stringify(stage)} is not a stage`, { hint: `use one of ${STAGES.join(', ')}` });
  }
  return stage as Stage;
}

/**
 * Without --reveal, --stage or --version-id narrows what is shown to that one version; a stage
 * or id the secret does not have is an error (exit 2), as it is with --reveal.
 */
function selectedVersion(d: SecretDescription, stage: Stage | undefined, versionId: string | undefined): SecretDescription {
  if (stage === undefined && versionId === undefined) return d;
  const v = versionId !== undefined ? d.versions.find((x) => x.id === versionId) : versionWith(d, stage!);
  if (!v) {
    throw new UsageError(`${d.name} has no ${versionId !== undefined ? `version ${JSON.stringify(versionId)}` : `${stage} version`}`, {
      hint: `its versions: ${d.versions.map((x) => `${x.id} (${x.stages.join(', ') || 'no stage'})`).join(', ') || 'none'}`,
    });
  }
  return { ...d, versions: [v] };
}

export async function getSecret(ctx: Context, name: string, opts: GetOptions): Promise<CommandResult> {
  checkSecretName(name);
  const stage = stageOption(opts.stage);
  if (stage !== undefined && opts.versionId !== undefined) {
    throw new UsageError('--stage and --version-id each pick a version: give one of them', { hint: `e.g. ltc secrets get ${name} --stage previous, or --version-id ${opts.versionId}` });
  }
  if (opts.reveal) {
    if (ctx.options.json) {
      throw new UsageError('--reveal prints the bare value and cannot be combined with --json', {
        hint: `use \`ltc secrets get ${name} --reveal --yes\` in scripts (it prints the value alone)`,
      });
    }
    if (!(ctx.isTTY && !ctx.ci) && !ctx.options.yes) {
      throw new UsageError('--reveal prints a secret value; without a terminal (or with CI=true) it needs --yes', {
        hint: `run \`ltc secrets get ${name} --reveal --yes\` if the value really should go to this output`,
      });
    }
  }
  return withScope(ctx, async (scope) => {
    if (!opts.reveal) {
      const d = await scope.backend.describe(name);
      return describeResult(scope.environment, scope.backend, selectedVersion(d, stage, opts.versionId), scope.policy(name) !== undefined);
    }
    const select = opts.versionId ? { versionId: opts.versionId } : { stage: stage ?? 'current' };
    const v = await audited(
      scope,
      { action: 'secret.reveal', secret: name, details: { purpose: 'reveal', ...select, via: ctx.isTTY ? 'terminal' : 'yes-flag' } },
      () => scope.backend.getValue(name, select),
      (r) => r.versionId,
    );
    // The one place a value leaves ltc on purpose: straight to stdout, past the masker.
    process.stdout.write(v.value + (ctx.isTTY ? '\n' : ''));
    return {};
  });
}

// ---------------------------------------------------------------- set

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

function checkPolicy(scope: SecretsScope, name: string, value: string): void {
  const problems = policyProblems(name, value, scope.policy(name));
  if (problems.length) {
    throw new UsageError(`the value for ${name} does not meet its policy: ${problems.join('; ')}`, {
      hint: `nothing was stored; \`ltc secrets generate ${name}\` makes one that does`,
    });
  }
}

export async function setSecret(ctx: Context, name: string, argv: readonly string[] = []): Promise<CommandResult> {
  if (!SECRET_NAME.test(name)) {
    // What stands where the name belongs may be the value itself (`ltc secrets set <value>`): never echo it.
    for (const word of [name, ...argv]) ctx.masker.add(word);
    throw new UsageError('ltc secrets set: the first argument is not a secret name (it is not repeated here, in case it is a value); nothing was stored', {
      hint:
        'secret names are upper case letters, digits and _, e.g. `ltc secrets set SMTP_PASSWORD < file`. ' +
        'If you typed a value there, it is in your shell history and was visible to other users in `ps`: if it is a real secret, treat it as exposed',
    });
  }
  if (argv.length) {
    for (const word of argv) ctx.masker.add(word);
    throw new UsageError(`ltc secrets set takes no value on the command line; nothing was stored`, {
      hint:
        `pipe it in (\`ltc secrets set ${name} < file\`) or run it in a terminal to type it hidden. ` +
        'What you typed is in your shell history and was visible to other users in `ps`: if it is a real secret, treat it as exposed',
    });
  }
  checkSecretName(name);
  let value: string;
  if (process.stdin.isTTY) {
    value = await ctx.prompt.secret(`Value for ${name} (hidden):`, 'stdin (pipe the value in)');
  } else {
    value = (await readStdin()).replace(/\r?\n$/, '');
    if (value === '') {
      throw new UsageError(`no value for ${name} on stdin`, {
        hint: `pipe it in, e.g. \`ltc secrets set ${name} < file\`, or run in a terminal to type it hidden; values are never taken from arguments`,
      });
    }
  }
  ctx.masker.add(value);
  return withScope(ctx, async (scope) => {
    checkPolicy(scope, name, value);
    if (ctx.options.dryRun) {
      return { data: { dryRun: true, secret: name }, text: `dry run: would store a new current version of ${name} in ${scope.backend.location}` };
    }
    const before = await scope.backend.describe(name).catch((err) => {
      if (err instanceof UnknownSecretError) return undefined;
      throw err;
    });
    const replaced = before ? versionWith(before, 'current')?.id : undefined;
    const r = await audited(scope, { action: 'secret.write', secret: name, details: { via: 'set' } }, () => scope.backend.put(name, value), (x) => x.versionId);
    return {
      data: { environment: scope.environment, secret: name, version: r.versionId, ...(replaced ? { previous: replaced } : {}) },
      text: `stored ${name} version ${r.versionId} as current (${scope.environment})${replaced ? `; version ${replaced} is now previous` : ''}`,
    };
  });
}

// ---------------------------------------------------------------- generate

export interface GenerateCliOptions {
  length?: string;
  bytes?: string;
}

function intOption(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} ${value} is not a whole number`, { hint: `e.g. ${flag} 48` });
  return Number(value);
}

export async function generate(ctx: Context, name: string, opts: GenerateCliOptions): Promise<CommandResult> {
  checkSecretName(name);
  const length = intOption(opts.length, '--length');
  const bytes = intOption(opts.bytes, '--bytes');
  return withScope(ctx, async (scope) => {
    const generated = generateSecret(name, scope.policy(name), { length, bytes });
    ctx.masker.add(generated.value);
    const existing = await scope.backend.describe(name).catch((err) => {
      if (err instanceof UnknownSecretError) return undefined;
      throw err;
    });
    if (ctx.options.dryRun) {
      return {
        data: { dryRun: true, secret: name, kind: generated.kind, description: generated.description, exists: !!existing },
        text: `dry run: would generate ${name} (${generated.description}) and store it as ${existing ? 'a new current version' : 'a new secret'} in ${scope.backend.location}`,
      };
    }
    if (existing && versionWith(existing, 'current')) {
      const answer = await ctx.prompt.approve(
        `${name} already exists in ${scope.environment}. Store a new value as current? Where it is used nothing changes (use \`ltc secrets rotate\` for that).`,
        'replace-secret',
      );
      if (!answer.approved) throw new UsageError(`not replaced: ${name} keeps its current value`, { hint: `rotate it with \`ltc secrets rotate ${name}\`` });
    }
    const r = await audited(
      scope,
      { action: 'secret.generate', secret: name, details: { kind: generated.kind, description: generated.description } },
      () => scope.backend.put(name, generated.value),
      (x) => x.versionId,
    );
    return {
      data: { environment: scope.environment, secret: name, version: r.versionId, kind: generated.kind, description: generated.description },
      text: `generated ${name}: ${generated.description}, stored as version ${r.versionId} (current) in ${scope.backend.location}`,
    };
  });
}

// ---------------------------------------------------------------- verify

interface VerifyRow {
  name: string;
  ok: boolean;
  problems: string[];
  version?: string;
}

export async function verify(ctx: Context): Promise<CommandResult> {
  return withScope(ctx, async (scope) => {
    const rows: VerifyRow[] = [];
    for (const policy of scope.config.required) {
      const name = policy.name;
      let desc: SecretDescription | undefined;
      try {
        desc = await scope.backend.describe(name);
      } catch (err) {
        if (!(err instanceof UnknownSecretError)) throw err;
      }
      if (!desc || !versionWith(desc, 'current')) {
        rows.push({ name, ok: false, problems: ['missing'] });
        continue;
      }
      const v = await audited(scope, { action: 'secret.read', secret: name, details: { purpose: 'verify' } }, () => scope.backend.getValue(name, { stage: 'current' }), (x) => x.versionId);
      const problems = policyProblems(name, v.value, policy);
      if (versionWith(desc, 'pending')) problems.push(`a rotation is unfinished (pending version ${idOf(desc, 'pending')}): run \`ltc secrets rotate ${name}\``);
      rows.push({ name, ok: problems.length === 0, problems, version: v.versionId });
    }
    const failed = rows.filter((r) => !r.ok);
    await scope.audit({ action: 'secrets.verify', outcome: failed.length ? 'failed' : 'ok', details: { checked: rows.length, failed: failed.map((r) => r.name) } });
    const lines = rows.map((r) => `${r.ok ? 'ok  ' : 'FAIL'}  ${r.name}${r.version ? ` (version ${r.version})` : ''}${r.problems.length ? `: ${r.problems.join('; ')}` : ''}`);
    if (rows.length === 0) lines.push(`no secrets are listed under secrets.required of ${scope.environment}`);
    const text = `${scope.environment}: ${rows.length - failed.length}/${rows.length} required secrets ok\n${lines.join('\n')}`;
    if (failed.length) {
      ctx.out.print(text);
      throw new CheckFailedError(`${failed.length} required secret${failed.length === 1 ? '' : 's'} of ${scope.environment} missing or not meeting policy: ${failed.map((r) => r.name).join(', ')}`, {
        hint: 'generate missing ones with `ltc secrets generate <NAME>`, replace weak ones the same way or with `ltc secrets set <NAME>`',
        details: { results: rows },
      });
    }
    return { data: { environment: scope.environment, results: rows }, text };
  });
}

// ---------------------------------------------------------------- rollback

export async function rollback(ctx: Context, name: string, opts: { restart?: boolean } = {}): Promise<CommandResult> {
  checkSecretName(name);
  return withScope(ctx, async (scope) => {
    const { rollbackSecret } = await import('./rotate.js');
    const r = await rollbackSecret(scope, name, { restart: opts.restart !== false });
    return {
      data: { environment: scope.environment, secret: name, current: r.current, previous: r.previous, applied: r.applied },
      text: `${name}: version ${r.current} is current again (version ${r.previous} is now previous)${r.applied ? `; ${r.applied}` : ''}`,
    };
  });
}

// ---------------------------------------------------------------- rotate

export async function rotate(ctx: Context, name: string, opts: { restart?: boolean } = {}): Promise<CommandResult> {
  checkSecretName(name);
  return withScope(ctx, async (scope) => {
    const { rotateSecret } = await import('./rotate.js');
    const r = await rotateSecret(scope, name, { restart: opts.restart !== false });
    return {
      data: { environment: scope.environment, secret: name, ...r },
      text: r.dryRun
        ? r.plan.join('\n')
        : `${name}: rotated${r.resumed ? ' (finished an interrupted rotation)' : ''}; version ${r.current} is current, ${r.previous ?? 'none'} is previous` +
          (r.target
            ? ` (set and tested in ${r.target})`
            : opts.restart === false
              ? ' (--no-restart: only the stored value changed; the app gets it with `ltc restart` or the next deploy)'
              : ' (no rotate.postgres or rotate.runbook configured and no deployed app uses it: only the stored value changed)'),
    };
  });
}

// ---------------------------------------------------------------- audit

export interface AuditCliOptions {
  since?: string;
  secret?: string;
}

export function auditRows(entries: AuditEntry[]): string {
  const rows = [['SEQ', 'TIME', 'ACTOR', 'ENV', 'ACTION', 'SECRET/RC', 'VERSION', 'OUTCOME']];
  for (const e of entries) {
    rows.push([String(e.seq), short(e.time), e.actor, e.environment ?? '-', e.action, e.secret ?? e.rc ?? '-', e.version ?? '-', e.outcome]);
  }
  return table(rows);
}

export async function secretsAudit(ctx: Context, opts: AuditCliOptions): Promise<CommandResult> {
  const since = opts.since ? parseSince(opts.since) : undefined;
  if (opts.secret) checkSecretName(opts.secret);
  const stateDir = await ctx.stateDir();
  const envName = ctx.options.env;
  const entries = (await readAudit(stateDir)).filter(
    (e) =>
      (e.secret !== undefined || e.action.startsWith('secret')) &&
      (!since || Date.parse(e.time) >= since.getTime()) &&
      (!opts.secret || e.secret === opts.secret) &&
      (!envName || e.environment === envName),
  );
  return {
    data: { entries },
    text: entries.length ? auditRows(entries) : 'no secret reads, writes or rotations recorded' + (since ? ` since ${since.toISOString()}` : ''),
  };
}
