/**
 * Every `${{ … }}` (and `when`) in a runbook with its key path, parsed. A syntax error becomes a
 * problem at the value's file:line:column.
 */
import { ExprSyntaxError, referencesOf, type Expr } from './expr.js';
import type { Runbook, StepDef } from './model.js';
import { hasTemplate, parseCondition, parseTemplate, stringsIn } from './template.js';

export interface FoundExpr {
  /** YAML key path of the string holding it. */
  path: PropertyKey[];
  text: string;
  expr: Expr;
  /** The step it belongs to (undefined for the runbook's own outputs). */
  step?: StepDef;
  /** In the step's own `outputs:` map (may read the step's own outputs). */
  inOutputs: boolean;
}

export interface SyntaxProblem {
  path: PropertyKey[];
  message: string;
}

function templatesIn(value: unknown, base: PropertyKey[]): Array<{ path: PropertyKey[]; text: string }> {
  return stringsIn(value, base).filter((s) => hasTemplate(s.text));
}

export function collectExpressions(rb: Runbook): { found: FoundExpr[]; problems: SyntaxProblem[] } {
  const found: FoundExpr[] = [];
  const problems: SyntaxProblem[] = [];
  const addTemplate = (path: PropertyKey[], text: string, step: StepDef | undefined, inOutputs: boolean) => {
    try {
      for (const part of parseTemplate(text).parts) {
        if (typeof part !== 'string') found.push({ path, text, expr: part.expr, ...(step ? { step } : {}), inOutputs });
      }
    } catch (err) {
      if (!(err instanceof ExprSyntaxError)) throw err;
      problems.push({ path, message: `expression does not parse: ${err.message} (at character ${err.offset + 1} of ${JSON.stringify(text)})` });
    }
  };
  for (const step of rb.steps.flatMap((s) => [s, ...s.onFailure])) {
    if (typeof step.when === 'string') {
      const path = [...step.path, 'when'];
      try {
        found.push({ path, text: step.when, expr: parseCondition(step.when).expr, step, inOutputs: false });
      } catch (err) {
        if (!(err instanceof ExprSyntaxError)) throw err;
        problems.push({ path, message: `when does not parse: ${err.message} (at character ${err.offset + 1} of ${JSON.stringify(step.when)})` });
      }
    }
    for (const s of templatesIn(step.raw, [...step.path, step.type])) addTemplate(s.path, s.text, step, false);
    for (const s of templatesIn(step.outputs, [...step.path, 'outputs'])) addTemplate(s.path, s.text, step, true);
  }
  for (const s of templatesIn(rb.outputs, ['outputs'])) addTemplate(s.path, s.text, undefined, false);
  return { found, problems };
}

export function refsIn(found: FoundExpr): Array<{ path: string[] }> {
  return referencesOf(found.expr);
}
