/**
 * `run`: a command as an argument array (`run: [npm, run, build]`), or `{ command, shell, cwd,
 * env, input, ok_exit_codes }`. A shell is used only when asked (`shell: bash|pwsh`), and then the
 * first element is the script and the rest are its positional arguments, never spliced into it.
 * Outputs: stdout (trailing newlines trimmed), stderr, exit_code.
 * A secret value in the command line is refused before the command runs (every local user can
 * read a process's arguments, e.g. with `ps`): secrets go in through `env:`.
 */
import { accessSync, constants } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { command, envVars } from '../config/schema/common.js';
import { CheckFailedError, ConfigError, InterruptedError } from '../core/errors.js';
import type { Masker } from '../core/masker.js';
import { displayCommand, withShell, type ShellName } from '../exec/command.js';
import { findOnPath as lookupOnPath } from '../exec/find-on-path.js';
import { defineStep } from '../runbook/step-type.js';

const longForm = z.strictObject({
  command,
  shell: z.enum(['bash', 'pwsh']).optional().describe('run the first element as a bash/pwsh script; the rest are its arguments ($1, $2 / $args)'),
  cwd: z.string().optional().describe('working directory (relative to where ltc runs)'),
  env: envVars.optional(),
  input: z.string().optional().describe('text fed to stdin'),
  ok_exit_codes: z.array(z.number().int()).min(1).optional().describe('exit codes that count as success (default [0])'),
}).superRefine((s, c) => {
  if (!s.shell) return;
  const script = s.command[0] ?? '';
  // A script that is one expression is run as given (the input is the script); a value spliced into script text would be run as code.
  if (script.includes('${{') && !/^\$\{\{[^}]*\}\}$/.test(script.trim())) {
    const read = s.shell === 'bash' ? '"$1"' : '$args[0]';
    c.addIssue({
      code: 'custom',
      path: ['command', 0],
      message: `the ${s.shell} script may not contain \${{ }} within its text (the value would run as code): pass the value as an argument after the script and read it as ${read}, or through env:`,
    });
  }
  if (s.shell === 'pwsh' && !/\.ps1$/i.test(script) && s.command.length > 1) {
    c.addIssue({
      code: 'custom',
      path: ['command', 1],
      message: 'pwsh -Command reads every argument after the script as more code: put the script in a .ps1 file (its arguments are in $args) or pass values through env:',
    });
  }
});

export const runSpec = z.union([command, longForm]);
export type RunSpec = z.output<typeof longForm>;

export function normalizeRun(spec: z.output<typeof runSpec>): RunSpec {
  return Array.isArray(spec) ? { command: spec } : spec;
}

const found = new Map<string, string | undefined>();

/** The file a bare command name runs, or undefined when it is not on PATH (remembered per process). */
export function findOnPathCached(name: string, pathEnv: string | undefined): string | undefined {
  const key = `${name}\0${pathEnv ?? ''}`;
  if (!found.has(key)) found.set(key, lookupOnPath(name, pathEnv));
  return found.get(key);
}


/**
 * Which element of the command holds a secret the masker knows ("argument 2 of the command", "the bash script"),
 * or undefined when none does. Never the value itself.
 */
function secretInCommand(command: readonly string[], shell: ShellName | undefined, masker: Masker): string | undefined {
  const at = command.findIndex((arg) => masker.containsSecret(arg));
  if (at < 0) return undefined;
  if (at === 0) return shell ? `the ${shell} script` : 'the command name';
  return `argument ${at} of the command`;
}

function secretInCommandError(where: string, prefix = '', suffix = ''): ConfigError {
  return new ConfigError(
    `${prefix}${where} holds a secret value, and a command line can be read by every user of this machine (ps)${suffix}`,
    {
      hint: 'pass it through env: instead, e.g. env: { TOKEN: "<the same ${{ … }} expression>" }, and read it from the environment in the command ($TOKEN in a shell: bash script, process.env.TOKEN in node)',
      details: { refused: 'secret-in-arguments' },
    },
  );
}

function tail(text: string, lines = 5): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export default defineStep({
  name: 'run',
  description: 'run a command given as an argument array (no shell unless shell: bash|pwsh)',
  schema: runSpec,
  outputs: ['stdout', 'stderr', 'exit_code'],
  plan(spec) {
    const s = normalizeRun(spec);
    const argv = withShell(s.command, s.shell);
    return [{ action: 'run', detail: displayCommand(argv) + (s.cwd ? ` (in ${s.cwd})` : ''), writes: true }];
  },
  preflight(spec, step) {
    const s = normalizeRun(spec);
    const secret = secretInCommand(s.command, s.shell, step.ctx.masker);
    if (secret) throw secretInCommandError(secret);
    const file = withShell(s.command, s.shell)[0]!;
    if (file.includes('${{')) return;
    if (isAbsolute(file)) {
      try {
        accessSync(file, constants.X_OK);
      } catch {
        throw new ConfigError(`command not found: ${file}`, { hint: `install it or fix the path; the step would run: ${displayCommand(s.command)}` });
      }
      return;
    }
    if (file.includes('/')) return; // relative to cwd: may be made by an earlier step
    const pathEnv = s.env?.PATH ?? step.ctx.env.PATH;
    if (!findOnPathCached(file, pathEnv)) {
      throw new ConfigError(`command not found: ${file} (not on PATH)`, {
        hint: `install ${file}, or give its full path; the step would run: ${displayCommand(s.command)}`,
      });
    }
  },
  async run(spec, step) {
    const s = normalizeRun(spec);
    // Values only known now (a secret step's output): checked again before anything starts.
    const secret = secretInCommand(s.command, s.shell, step.ctx.masker);
    if (secret) throw secretInCommandError(secret, `step "${step.stepId}": `, '; the command was not run');
    const argv = withShell(s.command, s.shell);
    const result = await step.exec(argv, {
      ...(s.cwd ? { cwd: resolve(step.ctx.cwd, s.cwd) } : {}),
      ...(s.env ? { env: s.env } : {}),
      ...(s.input !== undefined ? { input: s.input } : {}),
    });
    if (result.cancelled || result.timedOut) throw new InterruptedError(`stopped: ${displayCommand(argv)}`);
    const outputs = { stdout: result.stdout.replace(/\n+$/, ''), stderr: result.stderr.replace(/\n+$/, ''), exit_code: result.exitCode };
    if (!(s.ok_exit_codes ?? [0]).includes(result.exitCode)) {
      const why = result.signal ? `was killed by ${result.signal}` : `exited with ${result.exitCode}`;
      const last = tail(result.stderr || result.stdout);
      throw new CheckFailedError(`command ${why}: ${displayCommand(argv)}`, {
        hint: last ? `its last output:\n${last}` : 'it printed nothing; run with --verbose to see its output',
        details: { exitCode: result.exitCode },
      });
    }
    return { outputs, summary: result.exitCode === 0 ? undefined : `exit ${result.exitCode}` };
  },
});
