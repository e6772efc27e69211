// `ltc runbook run` of a runbook of 50 `run: ["true"]` steps as a whole process (start, config,
// validation, journal, every step spawned, exit) against a bash loop running /usr/bin/true 50
// times, interleaved in one run (no goal in issue 17; shown for the gap).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LTC, emit, interleave, timeProcess } from './lib.mjs';

const STEPS = 50;
const dir = mkdtempSync(join(tmpdir(), 'ltc-bench-runbook-'));
try {
  const file = join(dir, 'bench.yaml');
  writeFileSync(file, ['name: bench', 'steps:', ...Array.from({ length: STEPS }, (_, i) => `  - id: s${i}\n    run: ["true"]`)].join('\n') + '\n');
  writeFileSync(join(dir, 'ltc.config.yaml'), 'version: 1\napp: { repo: ./app }\n');
  const env = { ...process.env, NO_COLOR: '1', CI: 'true', LTC_STATE_DIR: join(dir, 'state'), LTC_CONFIG: '', LTC_ENV: '' };
  const t = await interleave({
    ltc: () => timeProcess([process.execPath, LTC, 'runbook', 'run', file], { cwd: dir, env }),
    shell: () => timeProcess(['bash', '-c', `for i in $(seq ${STEPS}); do /usr/bin/true; done`], { cwd: dir, env }),
  });
  emit('runbook', [{ case: `ltc runbook run: ${STEPS} steps of run: ["true"]`, ltc: t.ltc, floorName: `bash loop of /usr/bin/true ×${STEPS}`, floor: t.shell }]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
