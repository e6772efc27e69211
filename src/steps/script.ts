/**
 * `script`: an inline zx script run by Node in a child process (its own process group, ended on
 * timeout or Ctrl-C). zx's globals ($, cd, fs, path, echo, …) are available. Values reach the
 * script through `args` (read as `args.name`), passed in the environment — never spliced into
 * the code, which may not contain `${{ }}`. `setOutput(name, value)` sets a step output.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { envVars } from '../config/schema/common.js';
import { CheckFailedError, InterruptedError } from '../core/errors.js';
import { defineStep, type OutputValue } from '../runbook/step-type.js';

const code = z
  .string()
  .min(1)
  .refine((s) => !s.includes('${{'), { message: 'a script may not contain ${{ }}: pass values with args: and read them as args.<name>' })
  .describe('JavaScript (ESM, top-level await) with zx globals; read args.<name>, call setOutput(name, value)');

const longForm = z.strictObject({
  code,
  args: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional().describe('values for the script, e.g. { rc: "${{ inputs.rc }}" }'),
  cwd: z.string().optional(),
  env: envVars.optional(),
});

export const scriptSpec = z.union([code, longForm]);

function normalize(spec: z.output<typeof scriptSpec>): z.output<typeof longForm> {
  return typeof spec === 'string' ? { code: spec } : spec;
}

/** The module run by Node: zx globals, args from the environment, setOutput, then the code. */
function wrapper(userCode: string): string {
  const zxGlobals = import.meta.resolve('zx/globals');
  return [
    `import ${JSON.stringify(zxGlobals)};`,
    `import { appendFileSync as __ltcAppend } from 'node:fs';`,
    `const args = Object.freeze(JSON.parse(process.env.LTC_SCRIPT_ARGS ?? '{}'));`,
    `const setOutput = (name, value) => __ltcAppend(process.env.LTC_SCRIPT_OUTPUTS, JSON.stringify([String(name), value ?? null]) + '\\n');`,
    `$.verbose = false;`,
    userCode,
    '',
  ].join('\n');
}

async function readOutputs(file: string): Promise<Record<string, OutputValue>> {
  const outputs: Record<string, OutputValue> = {};
  const text = await readFile(file, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [name, value] = JSON.parse(line) as [string, unknown];
    outputs[name] = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null ? value : JSON.stringify(value);
  }
  return outputs;
}

export default defineStep({
  name: 'script',
  description: 'run an inline zx script (values via args:, outputs via setOutput)',
  schema: scriptSpec,
  outputs: ['stdout', 'exit_code'],
  dynamicOutputs: true,
  plan(spec) {
    const s = normalize(spec);
    const first = s.code.trim().split('\n')[0] ?? '';
    const args = Object.entries(s.args ?? {}).map(([k, v]) => `${k}=${String(v)}`);
    const lines = s.code.trim().split('\n').length;
    return [{ action: 'script', detail: `zx script (${lines} line${lines === 1 ? '' : 's'}: ${first}${args.length ? `; args ${args.join(', ')}` : ''})`, writes: true }];
  },
  async run(spec, step) {
    const s = normalize(spec);
    const dir = await mkdtemp(join(tmpdir(), 'ltc-script-'));
    try {
      const file = join(dir, 'script.mjs');
      const outputsFile = join(dir, 'outputs.jsonl');
      await writeFile(file, wrapper(s.code), { mode: 0o600 });
      const result = await step.exec([process.execPath, file], {
        ...(s.cwd ? { cwd: resolve(step.ctx.cwd, s.cwd) } : {}),
        env: { ...(s.env ?? {}), LTC_SCRIPT_ARGS: JSON.stringify(s.args ?? {}), LTC_SCRIPT_OUTPUTS: outputsFile, FORCE_COLOR: '0' },
      });
      if (result.cancelled || result.timedOut) throw new InterruptedError('script stopped');
      if (result.exitCode !== 0) {
        const last = (result.stderr || result.stdout).trimEnd().split('\n').slice(-8).join('\n');
        throw new CheckFailedError(`script exited with ${result.exitCode}`, { hint: last || 'run with --verbose to see its output' });
      }
      return { outputs: { stdout: result.stdout.replace(/\n+$/, ''), exit_code: result.exitCode, ...(await readOutputs(outputsFile)) } };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
});
