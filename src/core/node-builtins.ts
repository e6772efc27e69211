/**
 * node:http and node:https through require, not `import`: the ESM facade of a builtin reads every
 * export, and node:http's WebSocket/CloseEvent/MessageEvent getters load undici (~40 ms, issue 17).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function nodeHttp(): typeof import('node:http') {
  return require('node:http') as typeof import('node:http');
}

export function nodeHttps(): typeof import('node:https') {
  return require('node:https') as typeof import('node:https');
}
