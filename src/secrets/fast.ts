/**
 * The fast path of `ltc secrets get <NAME>` (metadata, file backend), called from bin/ltc.js
 * before the CLI framework loads (src/cli/fast-path.ts). The file store's metadata is readable
 * (the values are what is encrypted, see src/secrets/backends/file.ts), so this needs no key and
 * no crypto. Another flag, another backend, an unknown name, any error: undefined, and the normal
 * path runs (and renders errors) as always.
 */
import { readFileSync } from 'node:fs';
import { cachedEnvironment, parseFastArgs, printFast } from '../cli/fast-path.js';
import { defaultStorePath, describeMeta, describeResult, isStoreEnvelope } from './format.js';

/** Exit code when handled; undefined to run the normal CLI instead. */
export async function fastSecretsGet(args: readonly string[], env: NodeJS.ProcessEnv, cwd = process.cwd()): Promise<number | undefined> {
  try {
    const p = parseFastArgs(args, ['secrets', 'get']);
    const name = p?.positional[0];
    if (!p || p.positional.length !== 1 || !name || !/^[A-Z][A-Z0-9_]*$/.test(name)) return undefined;
    const chosen = await cachedEnvironment(p, env, cwd);
    const config = chosen?.env.secrets;
    if (!chosen || !config || config.backend !== 'file') return undefined;
    const store = config.path ? chosen.loaded.resolvePath(config.path) : defaultStorePath(chosen.stateDir, chosen.name);
    const envelope: unknown = JSON.parse(readFileSync(store, 'utf8'));
    if (!isStoreEnvelope(envelope)) return undefined;
    const secret = envelope.meta.secrets[name];
    if (!secret) return undefined;
    // Metadata only: no value is loaded.
    const r = describeResult(chosen.name, { kind: 'file', location: store }, describeMeta(name, secret), config.required.some((x) => x.name === name));
    return await printFast(p, env, async () => r);
  } catch {
    return undefined;
  }
}
