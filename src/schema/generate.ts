/**
 * Writes the JSON Schemas shipped in schema/ from the zod schemas (the single source):
 * schema/config.schema.json (ltc.config.yaml) and schema/runbook.schema.json (runbooks, with
 * every registered step type). `npm run schema` runs it; a test fails when the files are stale.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { configSchema } from '../config/schema/index.js';
import { packageRoot } from '../core/paths.js';
import { loadStepTypes } from '../runbook/registry.js';
import { buildRunbookSchema } from '../runbook/schema.js';

export interface GeneratedSchema {
  file: string;
  text: string;
}

function toJson(schema: z.ZodType, id: string, title: string): string {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return JSON.stringify({ $id: id, title, ...json }, null, 2) + '\n';
}

/** The schema files as they should be (paths relative to the package root). */
export async function generateSchemas(): Promise<GeneratedSchema[]> {
  const runbook = buildRunbookSchema(await loadStepTypes());
  return [
    { file: 'schema/config.schema.json', text: toJson(configSchema, 'https://ltc.invalid/schema/config.schema.json', 'ltc.config.yaml') },
    { file: 'schema/runbook.schema.json', text: toJson(runbook, 'https://ltc.invalid/schema/runbook.schema.json', 'ltc runbook') },
  ];
}

export async function writeSchemas(root = packageRoot()): Promise<string[]> {
  const written: string[] = [];
  for (const s of await generateSchemas()) {
    const file = join(root, s.file);
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, s.text);
    written.push(file);
  }
  return written;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const file of await writeSchemas()) process.stdout.write(`wrote ${file}\n`);
}
