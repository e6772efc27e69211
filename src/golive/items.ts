/** The go-live items as the `check` step type holds them in runbooks/golive.yaml. */
import { z } from 'zod';

export const ITEM_ID = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

export const checkSpec = z.strictObject({
  item: z.string().regex(ITEM_ID, { message: 'an item id is dotted lower-case words, e.g. secrets.stored' }),
  phase: z.number().int().min(1).max(4),
  blocking: z.boolean().default(true),
  decided_by: z.enum(['check', 'signoff', 'both']),
  probe: z.string().min(1).optional().describe('the automated check (for check and both; for signoff: evidence shown, e.g. recorded)'),
  with: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}).describe('parameters of the probe'),
  description: z.string().optional(),
  fix: z.string().optional().describe('the command or action that fixes a failure (else the probe says)'),
});

export type CheckSpec = z.output<typeof checkSpec>;

export interface GoliveItem extends CheckSpec {
  /** The step's name in the runbook. */
  title: string;
  stepId: string;
}

export type ItemStatus = 'passed' | 'failed' | 'needs_signoff' | 'waived' | 'not_applicable';

export interface ItemResult {
  item: string;
  phase: number;
  title: string;
  blocking: boolean;
  decided_by: CheckSpec['decided_by'];
  status: ItemStatus;
  evidence: string[];
  fix?: string;
  signoff?: { by: string; actor: string; time: string; note?: string };
  waiver?: { by: string; actor: string; time: string; reason: string; expires: string };
  durationMs: number;
  data?: Record<string, unknown>;
}

export const PHASES: Record<number, string> = {
  1: 'Phase 1: preparation (the week before)',
  2: 'Phase 2: staging deployment (3-5 days before)',
  3: 'Phase 3: go-live day',
  4: 'Phase 4: after the deploy (first week)',
};
