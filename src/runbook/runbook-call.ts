/** A `runbook` step's value read without its schema (validating and planning a run need only this). */
export function runbookCallOf(value: unknown): { ref: string; inputs: Record<string, unknown> } | undefined {
  if (typeof value === 'string') return { ref: value, inputs: {} };
  if (value && typeof value === 'object' && typeof (value as { name?: unknown }).name === 'string') {
    const v = value as { name: string; inputs?: Record<string, unknown> };
    return { ref: v.name, inputs: v.inputs ?? {} };
  }
  return undefined;
}
