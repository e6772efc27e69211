/** What a boolean input accepts (case-insensitive). Its own module: reading inputs must not load the runbook schema (zod). */
export const BOOLEAN_WORDS: { readonly true: readonly string[]; readonly false: readonly string[] } = { true: ['true', 'yes', '1', 'on'], false: ['false', 'no', '0', 'off'] };
