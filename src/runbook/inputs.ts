/**
 * Inputs: `--input name=value` strings (or typed values from the API) checked against the
 * runbook's declarations (type, enum values, pattern, required, default). Secret values are
 * registered with the masker before anything can print them.
 */
import { UsageError } from '../core/errors.js';
import type { Masker } from '../core/masker.js';
import { didYouMean } from '../core/suggest.js';
import { where, type Runbook } from './model.js';
import { BOOLEAN_WORDS } from './boolean-words.js';
import type { InputDef } from './schema.js';
import type { OutputValue } from './step-type.js';
import { userRegex } from '../core/user-regex.js';

export type InputValues = Record<string, OutputValue>;

/** The shortest value the masker registers (src/core/masker.ts). */
const MIN_SECRET_LENGTH = 4;

/** `["rc=rc-2026-03-01", "dry=true"]` → `{ rc: "rc-2026-03-01", dry: "true" }`. */
export function parseInputFlags(flags: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags ?? []) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new UsageError(`--input "${flag}" is not name=value`, { hint: 'e.g. --input rc=rc-2026-03-01 (repeat --input for more)' });
    const name = flag.slice(0, eq);
    // The last one silently winning would run with a value the person may not have meant (values are not repeated: one may be secret).
    if (Object.hasOwn(out, name)) throw new UsageError(`--input ${name} is given twice`, { hint: `give each input once: --input ${name}=…` });
    out[name] = flag.slice(eq + 1);
  }
  return out;
}

function coerce(name: string, def: InputDef, value: OutputValue, at: string): OutputValue {
  const shown = def.secret ? '(secret value)' : JSON.stringify(value);
  const bad = (expected: string) =>
    new UsageError(`input "${name}": ${shown} is not ${expected}`, { hint: `declared at ${at}${def.description ? `: ${def.description}` : ''}` });
  switch (def.type) {
    case 'number': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (Number.isNaN(n)) throw bad('a number');
      return n;
    }
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      const s = String(value).toLowerCase();
      if (BOOLEAN_WORDS.true.includes(s)) return true;
      if (BOOLEAN_WORDS.false.includes(s)) return false;
      throw bad('true or false');
    }
    case 'enum': {
      const allowed = def.values ?? [];
      const match = allowed.find((v) => String(v) === String(value));
      if (match === undefined) {
        throw new UsageError(`input "${name}": ${shown} is not one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`, {
          hint: didYouMean(String(value), allowed.map(String)) ?? `declared at ${at}`,
        });
      }
      return match;
    }
    case 'string': {
      const s = value === null ? '' : String(value);
      if (def.pattern !== undefined && !userRegex(def.pattern, `input ${name}: pattern`).test(s)) {
        throw new UsageError(`input "${name}": ${shown} does not match the pattern ${def.pattern}`, { hint: `declared at ${at}${def.description ? `: ${def.description}` : ''}` });
      }
      return s;
    }
  }
}

/** Checks and completes the inputs of a run; throws UsageError naming the input and where it is declared. */
export function resolveInputs(rb: Runbook, given: Readonly<Record<string, OutputValue>>, masker: Masker): InputValues {
  for (const [name, def] of Object.entries(rb.inputs)) {
    if (!def.secret) continue;
    for (const value of [given[name], def.default]) {
      if (value === undefined || value === null) continue;
      const text = String(value);
      // The masker leaves out values this short (they would mask ordinary text): refuse them.
      if (text.length > 0 && text.length < MIN_SECRET_LENGTH) {
        throw new UsageError(`input "${name}" is secret, and a value of fewer than ${MIN_SECRET_LENGTH} characters cannot be masked in the output`, {
          hint: `give a longer value (declared at ${where(rb, ['inputs'], name)})`,
        });
      }
      masker.add(text);
    }
  }
  const declared = Object.keys(rb.inputs);
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(rb.inputs, name)) {
      throw new UsageError(`runbook "${rb.name}" has no input ${JSON.stringify(name)}`, {
        hint: didYouMean(name, declared) ?? (declared.length ? `its inputs: ${declared.join(', ')}` : 'it takes no inputs'),
      });
    }
  }
  const values: InputValues = {};
  for (const [name, def] of Object.entries(rb.inputs)) {
    const at = where(rb, ['inputs'], name);
    const value = given[name] ?? def.default;
    if (value === undefined || value === null) {
      if (def.required) {
        throw new UsageError(`missing required input "${name}" of runbook "${rb.name}"`, {
          hint: `pass --input ${name}=<${def.type === 'enum' ? (def.values ?? []).join('|') : def.type}> (declared at ${at}${def.description ? `: ${def.description}` : ''})`,
        });
      }
      values[name] = null;
      continue;
    }
    values[name] = coerce(name, def, value, at);
  }
  return values;
}

/** The inputs as they may be written down: secret ones as ***. */
export function maskedInputs(rb: Runbook, values: InputValues): InputValues {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, rb.inputs[k]?.secret && v !== null ? '***' : v]));
}
