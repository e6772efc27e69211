import { afterAll, describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSchemas } from '../src/schema/generate.js';
import { ROOT, cleanupTempDirs,  tempDir } from './helpers/cli.js';
import { ltcInProcess as runLtc } from './helpers/inproc.ts';

afterAll(cleanupTempDirs);

describe('JSON Schemas generated from the zod schemas', () => {
  it('schema/runbook.schema.json and schema/config.schema.json are up to date (run `npm run build && npm run schema`)', async () => {
    for (const s of await generateSchemas()) {
      const committed = await readFile(join(ROOT, s.file), 'utf8').catch(() => '(missing)');
      expect(committed, `${s.file} is stale: run \`npm run build && npm run schema\``).toBe(s.text);
    }
  });

  it('the runbook schema lists every step type and needs exactly one per step', async () => {
    const schema = JSON.parse((await generateSchemas()).find((s) => s.file.endsWith('runbook.schema.json'))!.text) as {
      properties: { steps: { items: { properties: Record<string, unknown>; oneOf: Array<{ required: string[] }>; additionalProperties: boolean } } };
    };
    const step = schema.properties.steps.items;
    for (const type of ['run', 'script', 'http', 'confirm', 'wait', 'assert', 'runbook']) {
      expect(step.properties[type], type).toBeDefined();
      expect(step.oneOf).toContainEqual({ required: [type] });
    }
    expect(step.additionalProperties).toBe(false);
  });
});

describe('shipped runbooks', () => {
  it('each starts with the yaml-language-server schema line and validates', async () => {
    const files = (await readdir(join(ROOT, 'runbooks'))).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    const cwd = await tempDir();
    for (const f of files) {
      const text = await readFile(join(ROOT, 'runbooks', f), 'utf8');
      expect(text.split('\n')[0], f).toBe('# yaml-language-server: $schema=../schema/runbook.schema.json');
      const r = await runLtc(['runbook', 'validate', f.replace(/\.yaml$/, '')], { cwd });
      expect(r.stderr, f).toBe('');
      expect(r.code, f).toBe(0);
    }
  });
});
