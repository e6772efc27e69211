// ltc --version and ltc --help against a bare `node -e 0`, interleaved in one run.
import { LTC, compare, report } from './lib.mjs';

const m = compare({
  node: [process.execPath, '-e', '0'],
  version: [process.execPath, LTC, '--version'],
  help: [process.execPath, LTC, '--help'],
}, 21);
report('startup (median of 21 runs)', [
  { name: 'node -e 0', value: m.node, unit: ' ms', digits: 1 },
  { name: 'ltc --version', value: m.version, unit: ' ms', digits: 1 },
  { name: 'ltc --help', value: m.help, unit: ' ms', digits: 1 },
  { name: 'ratio ltc --version / node -e 0', value: m.version / m.node, target: 1.5 },
  { name: 'ratio ltc --help / node -e 0', value: m.help / m.node, target: 2 },
]);
