/**
 * One masker for the whole process. Every secret value is registered the moment it is
 * loaded; every output path (terminal, --json, journal, captured child output, audit,
 * error messages) passes its text through `mask()`.
 */
export const MASK = '***';
/** Values shorter than this are left alone (they would mask ordinary text): they must not be secrets. */
export const MIN_LENGTH = 4;

export class Masker {
  private readonly needles = new Set<string>();
  private pattern: RegExp | undefined;

  /** Registers a secret and its base64, base64url and URL-encoded forms. */
  add(value: string | undefined | null): void {
    if (!value || value.length < MIN_LENGTH) return;
    const forms = [
      value,
      Buffer.from(value).toString('base64'),
      Buffer.from(value).toString('base64').replace(/=+$/, ''),
      Buffer.from(value).toString('base64url'),
      encodeURIComponent(value),
      encodeURI(value),
      JSON.stringify(value).slice(1, -1),
    ];
    for (const form of forms) if (form.length >= MIN_LENGTH) this.needles.add(form);
    this.pattern = undefined;
  }

  get size(): number {
    return this.needles.size;
  }

  mask(text: string): string {
    if (this.needles.size === 0 || text.length === 0) return text;
    this.pattern ??= new RegExp(
      [...this.needles]
        .sort((a, b) => b.length - a.length)
        .map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('|'),
      'g',
    );
    return text.replace(this.pattern, MASK);
  }

  /** Whether `text` holds a registered secret (in any of its registered forms). Changes nothing. */
  containsSecret(text: string): boolean {
    return this.mask(text) !== text;
  }

  /** Masks every string inside a JSON-like value; returns a copy. */
  maskDeep<T>(value: T): T {
    if (this.needles.size === 0) return value;
    return JSON.parse(this.mask(JSON.stringify(value) ?? 'null')) as T;
  }
}

export const processMasker = new Masker();
