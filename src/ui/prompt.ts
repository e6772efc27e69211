import { InterruptedError, LtcError, UsageError } from '../core/errors.js';

export interface PromptPolicy {
  interactive: boolean;
  yes: boolean;
  approvals: ReadonlySet<string>;
  /** Ends a prompt that is waiting (ltc's Ctrl-C / SIGTERM) when the caller passes no signal of its own. */
  signal?: AbortSignal;
}

export interface ApprovalResult {
  approved: boolean;
  /** How the answer was given: a person at the prompt, `--yes`, or `--approve <id>`. */
  via: 'prompt' | 'yes-flag' | 'approve-flag';
}

/** Prompts talk on stderr, so stdout stays one JSON document under --json. */
const PROMPT_IO = { input: process.stdin, output: process.stderr };

/**
 * Turns an inquirer cancellation into ltc's interrupt (exit 130): `ExitPromptError` is Ctrl-C at
 * the prompt (or the process going away), `AbortPromptError` the signal passed to the prompt.
 * A signal aborted with an ltc error (a step's timeout) rethrows that error.
 */
function rethrow(err: unknown): never {
  if (err instanceof Error && err.name === 'ExitPromptError') throw new InterruptedError('prompt cancelled', { cause: err });
  if (err instanceof Error && err.name === 'AbortPromptError') {
    if (err.cause instanceof LtcError) throw err.cause;
    throw new InterruptedError('prompt cancelled', { cause: err });
  }
  throw err;
}

/**
 * The only way ltc asks a person something. Without a TTY, or with CI=true, it never
 * waits: it fails with exit 2 and names the flag that answers the question.
 */
export class Prompter {
  constructor(private readonly policy: PromptPolicy) {}

  get interactive(): boolean {
    return this.policy.interactive;
  }

  /** The inquirer context: ltc's streams and the signal that ends the prompt. */
  private io(signal: AbortSignal | undefined) {
    const s = signal ?? this.policy.signal;
    return s ? { ...PROMPT_IO, signal: s } : PROMPT_IO;
  }

  private requireInteractive(question: string, flag: string): void {
    if (!this.policy.interactive) {
      throw new UsageError(`cannot ask "${question}": no terminal (or CI=true)`, {
        hint: `answer it with ${flag}`,
      });
    }
  }

  /** A yes/no sign-off. `id` is what `--approve <id>` names; `signal` ends the prompt (exit 130). */
  async approve(question: string, id?: string, signal?: AbortSignal): Promise<ApprovalResult> {
    if (id && this.policy.approvals.has(id)) return { approved: true, via: 'approve-flag' };
    if (this.policy.yes) return { approved: true, via: 'yes-flag' };
    this.requireInteractive(question, id ? `--yes or --approve ${id}` : '--yes');
    const { confirm } = await import('@inquirer/prompts');
    const approved = await confirm({ message: question, default: false }, this.io(signal)).catch(rethrow);
    return { approved, via: 'prompt' };
  }

  /** Asks the person to type `expected` (a protected environment's name). */
  async typeToConfirm(question: string, expected: string, signal?: AbortSignal): Promise<ApprovalResult> {
    if (this.policy.yes) return { approved: true, via: 'yes-flag' };
    this.requireInteractive(question, '--yes');
    const { input } = await import('@inquirer/prompts');
    const answer = await input({ message: `${question} Type "${expected}" to continue:` }, this.io(signal)).catch(rethrow);
    return { approved: answer.trim() === expected, via: 'prompt' };
  }

  /** A hidden input (a secret value). */
  async secret(question: string, flag: string, signal?: AbortSignal): Promise<string> {
    this.requireInteractive(question, flag);
    const { password } = await import('@inquirer/prompts');
    return password({ message: question, mask: '*' }, this.io(signal)).catch(rethrow);
  }
}
