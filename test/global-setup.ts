import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** CLI tests spawn bin/weir.js, which runs the bundle: build it from the current sources first. */
export default function setup(): void {
  execFileSync(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'build.ts')], { stdio: 'inherit' });
}
