/**
 * Reads a runbook file: from the cache of valid runbooks when its text is known
 * (src/runbook/cache.ts), else parsed and validated by load.ts (yaml and zod load only then).
 */
import { readTextFile } from '../config/read-text.js';
import type { YamlSource } from '../config/yaml-source.js';
import type { RunbookRef } from './locate.js';
import type { Runbook } from './model.js';
import { registryVersion, stepTypesNamed } from './registry.js';

export async function readRunbook(ref: RunbookRef, env: NodeJS.ProcessEnv = process.env): Promise<Runbook> {
  const text = await readTextFile(ref.file, 'runbook');
  // Step types registered at run time (embedding, tests) change what is valid: no cache then.
  const cacheable = registryVersion() === 0;
  const { cachedRunbook, cacheRunbook } = await import('./cache.js');
  if (cacheable) {
    const hit = await cachedRunbook(ref, text, stepTypesNamed, env);
    if (hit) return hit;
  }
  const rb = await (await import('./load.js')).parseRunbook(ref, text);
  if (cacheable) await cacheRunbook(ref, text, rb, (rb.source as YamlSource).positionTable(), env);
  return rb;
}
