/**
 * A fake `nvidia-smi` for tests: a shell script written into a temp folder that goes first on PATH.
 * It answers like the real one (a CSV line per GPU for `--query-gpu`, a banner with the CUDA version
 * otherwise), or hangs, fails or prints garbage; each call is appended to `calls.log`.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { onTestFinished } from 'vitest';

export const TWO_GPUS = '0, NVIDIA H100 80GB HBM3, 81559, 550.54.15\n1, NVIDIA H100 80GB HBM3, 81559, 550.54.15\n';
export const BANNER = `+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |
|-----------------------------------------+------------------------+----------------------+
`;

export type FakeBehaviour = { kind: 'gpus'; csv?: string; banner?: string } | { kind: 'hang' } | { kind: 'exit'; code: number; stderr: string } | { kind: 'garbage' };

export interface FakeNvidiaSmi {
  /** The folder holding `nvidia-smi`: put it first on PATH. */
  dir: string;
  /** PATH with the fake first. */
  path: string;
  /** The argument lists it was called with, one line per call. */
  calls(): string[];
  /** Pid of the `sleep` a hanging fake started (to check it was killed). */
  sleeperPid(): number | undefined;
}

function script(behaviour: FakeBehaviour, dir: string): string {
  const log = `printf 'call:%s\\n' "$*" >> '${join(dir, 'calls.log')}'`;
  switch (behaviour.kind) {
    case 'gpus':
      writeFileSync(join(dir, 'query.csv'), behaviour.csv ?? TWO_GPUS);
      writeFileSync(join(dir, 'banner.txt'), behaviour.banner ?? BANNER);
      return `${log}\ncase "$1" in --query-gpu=*) cat '${join(dir, 'query.csv')}' ;; *) cat '${join(dir, 'banner.txt')}' ;; esac\n`;
    case 'hang':
      // A child that holds stdout open: only killing the whole process group ends it.
      return `${log}\nsleep 300 &\necho $! > '${join(dir, 'sleeper.pid')}'\nwait\n`;
    case 'exit':
      return `${log}\necho '${behaviour.stderr}' >&2\nexit ${behaviour.code}\n`;
    case 'garbage':
      return `${log}\necho 'Failed to initialize NVML: Driver/library version mismatch'\n`;
  }
}

/** Writes the fake; the folder is removed when the test finishes. */
export function fakeNvidiaSmi(behaviour: FakeBehaviour): FakeNvidiaSmi {
  const dir = mkdtempSync(join(tmpdir(), 'weir-fake-smi-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'nvidia-smi');
  writeFileSync(file, `#!/bin/sh\n${script(behaviour, dir)}`);
  chmodSync(file, 0o755);
  const logFile = join(dir, 'calls.log');
  const pidFile = join(dir, 'sleeper.pid');
  return {
    dir,
    path: `${dir}${delimiter}${process.env.PATH ?? ''}`,
    calls: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((line) => line.slice('call:'.length)) : []),
    sleeperPid: () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : undefined),
  };
}

/** Whether a process is gone (or a zombie nobody reaped yet: it runs nothing). */
export function isGone(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return /^State:\s+Z/m.test(status);
  } catch {
    return true;
  }
}
