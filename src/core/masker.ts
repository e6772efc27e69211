/**
 * One masker for the whole process. Every secret value is registered the moment it is
 * loaded; every output path (terminal, --json, journal, captured child output, audit,
 * error messages) passes its text through `mask()`.
 */
export const MASK = '***';
/** Values shorter than this are left alone (they would mask ordinary text): they must not be secrets. */
export const MIN_LENGTH = 4;

/** Base64 pieces shorter than this (the part of a secret inside a longer base64 text) are not masked. */
const MIN_BASE64_CORE = 8;

type ByteSet = (b: number) => boolean;
const has = (chars: string): ByteSet => {
  const codes = new Set([...chars].map((c) => c.charCodeAt(0)));
  return (b) => codes.has(b);
};
/** WHATWG URL percent-encode sets (https://url.spec.whatwg.org/#percent-encoded-bytes), as byte tests. */
const c0: ByteSet = (b) => b < 0x20 || b > 0x7e;
/** The union of sets as a 256-entry table: every credential is encoded in all of them at startup. */
const union = (...sets: ByteSet[]): ByteSet => {
  const table = new Uint8Array(256);
  for (let b = 0; b < 256; b++) table[b] = sets.some((t) => t(b)) ? 1 : 0;
  return (b) => table[b] === 1;
};
const fragmentSet = union(c0, has(' "<>`'));
const querySet = union(c0, has(' "#<>'));
const specialQuerySet = union(querySet, has("'"));
const pathSet = union(querySet, has('?^`{}'));
const userinfoSet = union(pathSet, has('/:;=@[\\]^|'));
const componentSet = union(userinfoSet, has('$%&+,'));
const formSet = union(componentSet, has("!'()~"));
const URL_SETS = [fragmentSet, querySet, specialQuerySet, pathSet, userinfoSet, componentSet];

function percentEncode(bytes: Buffer, set: ByteSet, upper: boolean, spaceAsPlus = false): string {
  let out = '';
  for (const b of bytes) {
    if (spaceAsPlus && b === 0x20) out += '+';
    else if (set(b)) {
      const hex = b.toString(16).padStart(2, '0');
      out += '%' + (upper ? hex.toUpperCase() : hex);
    } else out += String.fromCharCode(b);
  }
  return out;
}

/**
 * The part of `bytes`' base64 that stays the same wherever they sit inside a longer base64 text
 * (`p` bytes before them, anything after): `user:secret` in a Basic header, a secret in a blob.
 */
function base64Core(bytes: Buffer, p: 0 | 1 | 2, url: boolean): string {
  const full = Buffer.concat([Buffer.alloc(p), bytes]).toString(url ? 'base64url' : 'base64').replace(/=+$/, '');
  const drop = p === 0 ? 0 : p === 1 ? 2 : 3;
  const tail = (p + bytes.length) % 3 === 0 ? 0 : 1;
  return full.slice(drop, full.length - tail);
}

/** Non-ASCII as \\uXXXX escapes (what JSON encoders that keep to ASCII write). */
function jsonAscii(json: string, upper: boolean): string {
  return json.replace(/[\u007f-\uffff]/g, (c) => {
    const hex = c.charCodeAt(0).toString(16).padStart(4, '0');
    return '\\u' + (upper ? hex.toUpperCase() : hex);
  });
}

/**
 * Every form a value can take on its way out: as is (and lower-cased, as a URL's host is), base64
 * (standard and URL-safe, padded or not, and the stable part of it inside a longer base64 text),
 * hex (both cases), percent-encoding (encodeURI/encodeURIComponent, each WHATWG URL set as the URL
 * serializer writes it, form encoding with + for space; upper- and lower-case hex), JSON-escaped
 * (also with non-ASCII as \\u escapes and / as \\/).
 */
export function encodedForms(value: string): Set<string> {
  const bytes = Buffer.from(value, 'utf8');
  const forms = new Set<string>([value, value.toLowerCase()]);
  const b64 = bytes.toString('base64');
  const b64url = bytes.toString('base64url');
  forms.add(b64).add(b64.replace(/=+$/, '')).add(b64url).add(b64url + '='.repeat((4 - (b64url.length % 4)) % 4));
  for (const p of [0, 1, 2] as const) {
    for (const url of [false, true]) {
      const core = base64Core(bytes, p, url);
      if (core.length >= MIN_BASE64_CORE) forms.add(core);
    }
  }
  const hex = bytes.toString('hex');
  forms.add(hex).add(hex.toUpperCase());
  for (const upper of [true, false]) {
    for (const set of URL_SETS) forms.add(percentEncode(bytes, set, upper));
    forms.add(percentEncode(bytes, formSet, upper, true));
    forms.add(percentEncode(bytes, componentSet, upper, true));
  }
  forms.add(encodeURIComponent(value)).add(encodeURI(value));
  forms.add(encodeURI(value).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
  const json = JSON.stringify(value).slice(1, -1);
  forms.add(json).add(jsonAscii(json, false)).add(jsonAscii(json, true)).add(json.replace(/\//g, '\\/'));
  return forms;
}

export class Masker {
  private readonly needles = new Set<string>();
  private readonly values = new Set<string>();
  private pattern: RegExp | undefined;
  private shortest = Infinity;

  /** Registers a secret and every encoded form of it (see `encodedForms`). */
  add(value: string | undefined | null): void {
    if (!value || value.length < MIN_LENGTH || this.values.has(value)) return;
    this.values.add(value);
    for (const form of encodedForms(value)) {
      if (form.length < MIN_LENGTH || this.needles.has(form)) continue;
      this.needles.add(form);
      this.shortest = Math.min(this.shortest, form.length);
    }
    this.pattern = undefined;
  }

  get size(): number {
    return this.needles.size;
  }

  /**
   * One pass over `text` with one combined pattern of every form of every secret (longest
   * first), so the cost grows with the text, not with a search per form.
   */
  mask(text: string): string {
    if (this.needles.size === 0 || text.length < this.shortest) return text;
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
