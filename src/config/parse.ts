import { ConfigError } from '../core/errors.js';
import { configSchema, type Config } from './schema/index.js';
import { parseWithSchema } from './schema-errors.js';
import { YamlSource } from './yaml-source.js';

/** Parses and validates config text (loads yaml and zod). */
export function parseConfig(file: string, text: string): Config {
  const source = YamlSource.parse(file, text, 'config');
  if (source.toJS() == null) {
    throw new ConfigError(`${file}:1:1: config is empty`, { hint: 'run `ltc init` for a commented example' });
  }
  return parseWithSchema(configSchema, source, `config ${file}`);
}
