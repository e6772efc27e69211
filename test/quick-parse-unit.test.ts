/**
 * The deploy and rollback phase steps check their usual values without zod (quickParse), so that a
 * rollback never loads it. Whatever quickParse accepts, the zod schema accepts too, with the same result.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { quickDeploySpec } from '../src/steps/deploy.ts';
import { deploySpec, rollbackSpec, switchSpec } from '../src/steps/phase-specs.ts';
import { quickRollbackSpec } from '../src/steps/rollback.ts';
import { quickSwitchSpec } from '../src/steps/switch.ts';

const VALUES: unknown[] = [
  'lock', 'restart', 'record', 'start', 'choose', 'undo', 'failed', 'nope', '', 'LOCK', ' lock', 42, null, true, [], ['lock'],
  {}, { phase: 'lock' }, { phase: 'lock', wait: '0s' }, { phase: 'lock', wait: '30s' }, { phase: 'lock', wait: 1500 }, { phase: 'lock', wait: 0 },
  { phase: 'lock', wait: -1 }, { phase: 'lock', wait: Number.NaN }, { phase: 'lock', wait: Number.POSITIVE_INFINITY }, { phase: 'lock', wait: 2_147_483_648 },
  { phase: 'lock', wait: '25d' }, { phase: 'lock', wait: '24d' }, { phase: 'lock', wait: ' 5s' }, { phase: 'lock', wait: '5 s' }, { phase: 'lock', wait: '1.5m' },
  { phase: 'lock', wait: '${{ inputs.lock_wait }}' }, { phase: 'lock', wait: '${{ x' }, { phase: 'lock', wait: true }, { phase: 'lock', wait: undefined },
  { phase: 'resolve', rc: 'rc-2026-03-01', environment: 'staging' }, { phase: 'resolve', rc: '' }, { phase: 'resolve', rc: 7 }, { phase: 'resolve', extra: 1 },
  { phase: 'start', to: '', environment: 'prod' }, { phase: 'start', to: 'rc-1' }, { phase: 'start', to: 3 }, { phase: 'start', environment: '' }, { phase: 'choose', wait: '1s' },
  { release: '20260301T000000Z-abc' }, { release: '' }, { release: 5 }, { release: 'x', other: 1 }, { phase: 'nope' }, Object.create({ phase: 'lock' }),
];

const TYPES = [
  { name: 'deploy', quick: quickDeploySpec, schema: deploySpec },
  { name: 'switch', quick: quickSwitchSpec, schema: switchSpec },
  { name: 'rollback', quick: quickRollbackSpec, schema: rollbackSpec },
] as const;

describe('quickParse of the deploy and rollback phase steps', () => {
  it('accepts only what the zod schema accepts, and gives the same value', () => {
    let accepted = 0;
    for (const t of TYPES) {
      for (const v of VALUES) {
        const quick = t.quick(v);
        if (quick === undefined) continue;
        accepted++;
        const zod = t.schema.safeParse(v);
        expect(zod.success, `${t.name} ${JSON.stringify(v)}`).toBe(true);
        expect(quick, `${t.name} ${JSON.stringify(v)}`).toEqual(zod.data);
      }
    }
    expect(accepted).toBeGreaterThanOrEqual(20);
  });

  it('refuses what the schema refuses, so the schema words the problem', () => {
    expect(quickDeploySpec({ phase: 'lock', wait: -1 })).toBeUndefined();
    expect(quickDeploySpec({ phase: 'lock', wait: '25d' })).toBeUndefined();
    expect(quickDeploySpec({ phase: 'resolve', extra: 1 })).toBeUndefined();
    expect(quickSwitchSpec({ release: '' })).toBeUndefined();
    expect(quickRollbackSpec({ phase: 'start', to: 3 })).toBeUndefined();
    expect(quickRollbackSpec(Object.create({ phase: 'lock' }))).toBeUndefined();
    // Read once, as zod does: a getter, a hidden key, a symbol key or a proxy goes to the schema.
    let reads = 0;
    expect(quickSwitchSpec({ get release() { return reads++ ? 5 : 'r1'; } })).toBeUndefined();
    expect(quickDeploySpec(Object.defineProperty({}, 'phase', { value: 'build', enumerable: false }))).toBeUndefined();
    expect(quickDeploySpec({ phase: 'build', [Symbol('x')]: 1 })).toBeUndefined();
    expect(quickDeploySpec(new Proxy({}, { get: () => 'build' }))).toBeUndefined();
  });

  it('takes every value the shipped deploy and rollback runbooks give these steps (so neither loads zod)', () => {
    const quick: Record<string, (v: unknown) => unknown> = { deploy: quickDeploySpec, switch: quickSwitchSpec, rollback: quickRollbackSpec };
    let seen = 0;
    for (const file of ['runbooks/deploy.yaml', 'runbooks/rollback.yaml']) {
      const rb = parse(readFileSync(file, 'utf8')) as { steps: Array<Record<string, unknown> & { on_failure?: Array<Record<string, unknown>> }> };
      for (const step of rb.steps.flatMap((s) => [s, ...(s.on_failure ?? [])])) {
        for (const [type, check] of Object.entries(quick)) {
          if (!(type in step)) continue;
          seen++;
          expect(check(step[type]), `${file} step ${String(step.id)}`).toBeDefined();
        }
      }
    }
    expect(seen).toBeGreaterThan(20);
  });
});
