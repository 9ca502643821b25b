/**
 * Start-up time of the CLI: spawns `weir <args>` N times in a project and prints the median and
 * the mean wall time per command, beside a trivial `node -e 0` as the baseline. hyperfine is not
 * available everywhere, so this is a plain loop of spawns.
 *
 *   node_modules/.bin/node test/cli/measure-startup.ts [runs=20]
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const RUNS = Number(process.argv[2] ?? 20);
const root = resolve(import.meta.dirname, '..', '..');
const bin = resolve(root, 'bin', 'weir.js');

function measure(args: string[]): { median: number; mean: number } {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'ignore' });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (result.status !== 0) throw new Error(`'${args.join(' ')}' exited ${result.status}`);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], mean: times.reduce((a, b) => a + b, 0) / times.length };
}

const cases: [string, string[]][] = [
  ['node -e 0 (baseline)', ['-e', '0']],
  ['weir --version', [bin, '--version']],
  ['weir --help', [bin, '--help']],
  ['weir validate', [bin, 'validate']],
];
for (const [name, args] of cases) {
  const { median, mean } = measure(args);
  console.log(`${name.padEnd(24)} median ${median.toFixed(1).padStart(6)} ms  mean ${mean.toFixed(1).padStart(6)} ms  (${RUNS} runs)`);
}
