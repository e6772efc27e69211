import type { ChalkInstance } from 'chalk';
import type { Masker } from './masker.js';

export type Palette = Pick<ChalkInstance, 'red' | 'green' | 'yellow' | 'dim' | 'bold' | 'cyan'>;

const identity = (s: string) => s;
const PLAIN: Palette = { red: identity, green: identity, yellow: identity, dim: identity, bold: identity, cyan: identity } as unknown as Palette;

/** Colour is on unless --no-color, NO_COLOR (non-empty), a stream that is no terminal, or TERM=dumb. */
export function colorWanted(flagAllows: boolean, env: NodeJS.ProcessEnv, isTTY: boolean | (() => boolean)): boolean {
  const noColorEnv = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return flagAllows && !noColorEnv && env.TERM !== 'dumb' && (typeof isTTY === 'function' ? isTTY() : isTTY);
}

/** chalk is loaded only when colour is on (and never for --help/--version). */
export async function loadPalette(color: boolean): Promise<Palette> {
  if (!color) return PLAIN;
  const { Chalk } = await import('chalk');
  // chalk ignores NO_COLOR by design, so the level is decided by the caller from --no-color/NO_COLOR/TTY.
  return new Chalk({ level: 1 });
}

export interface OutputOptions {
  palette?: Palette;
  json: boolean;
  color: boolean;
  verbose: boolean;
  debug: boolean;
  masker: Masker;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

/**
 * Everything ltc prints goes through here, masked. Human text goes to stdout unless
 * --json, where stdout carries exactly one JSON document and all logs go to stderr.
 */
export class Output {
  readonly json: boolean;
  readonly color: boolean;
  readonly verbose: boolean;
  readonly debugEnabled: boolean;
  readonly c: Palette;
  private readonly masker: Masker;
  private readonly out: NodeJS.WritableStream;
  private readonly err: NodeJS.WritableStream;
  private jsonWritten = false;

  constructor(opts: OutputOptions) {
    this.json = opts.json;
    this.color = opts.color;
    this.verbose = opts.verbose || opts.debug;
    this.debugEnabled = opts.debug;
    this.masker = opts.masker;
    this.c = opts.palette ?? PLAIN;
    this.out = opts.stdout ?? process.stdout;
    this.err = opts.stderr ?? process.stderr;
  }

  /** Human output (stdout); with --json it goes to stderr so stdout stays one document. */
  print(text = ''): void {
    const target = this.json ? this.err : this.out;
    target.write(this.masker.mask(text) + '\n');
  }

  info(text: string): void {
    this.err.write(this.masker.mask(text) + '\n');
  }

  warn(text: string): void {
    this.err.write(this.c.yellow(this.masker.mask(`warning: ${text}`)) + '\n');
  }

  error(text: string): void {
    this.err.write(this.c.red(this.masker.mask(text)) + '\n');
  }

  /** Shown with --verbose (and --debug). */
  detail(text: string): void {
    if (this.verbose) this.err.write(this.c.dim(this.masker.mask(text)) + '\n');
  }

  debug(text: string): void {
    if (this.debugEnabled) this.err.write(this.c.dim(this.masker.mask(`debug: ${text}`)) + '\n');
  }

  /** The one JSON document of a --json run. */
  writeJson(doc: unknown): void {
    if (this.jsonWritten) return;
    this.jsonWritten = true;
    this.out.write(this.masker.mask(JSON.stringify(doc, null, 2)) + '\n');
  }

  get wroteJson(): boolean {
    return this.jsonWritten;
  }

  mask(text: string): string {
    return this.masker.mask(text);
  }
}
