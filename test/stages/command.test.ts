import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandWith, commandStage } from '../../src/stages/command.ts';
import { createTestContext, type TestContext } from './context.ts';

let ctx: TestContext;

beforeEach(async () => {
  ctx = await createTestContext({ stage: 'train' });
});
afterEach(() => ctx.dispose());

const run = (input: Record<string, unknown>, context: TestContext = ctx) => commandStage.run(context, CommandWith.parse(input));

/** Running, not a zombie: a killed orphan stays a zombie until an init process reaps it. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return !/^\d+ \(.*\) Z/.test(stat);
}

describe('command stage', () => {
  it('streams stdout and stderr lines in order as they arrive and reports the exit code', async () => {
    const started = Date.now();
    const result = await run({ run: 'echo one; echo oops >&2; sleep 0.3; printf "two\\nthree"' });
    expect(result).toEqual({ outputs: { exit_code: 0 } });
    expect(ctx.logged('stdout')).toEqual(['one', 'two', 'three']);
    expect(ctx.logged('stderr')).toEqual(['oops']);
    // The first line was logged before the command finished, not buffered until exit.
    const first = ctx.lines.find((l) => l.line === 'one')!;
    expect(first.at - started).toBeLessThan(Date.now() - started - 200);
  });

  it('fails with the exit code and the last 20 lines of stderr', async () => {
    const failure = run({ run: 'for i in $(seq 1 30); do echo "err $i" >&2; done; exit 3' });
    await expect(failure).rejects.toThrow(/^command 'for i in .*' exited with code 3; last lines of stderr:\nerr 11\n(.|\n)*err 30$/);
  });

  it('passes args, extra env and the WEIR_ variables to the child', async () => {
    await mkdir(join(ctx.root, 'jobs'));
    await run({ run: 'echo "$1 $2|$GREETING|$WEIR_RUN_ID|$WEIR_PIPELINE|$WEIR_STAGE|$WEIR_RUN_DIR|$(pwd)"', args: ['a b', 'c'], env: { GREETING: 'hi' }, cwd: 'jobs' });
    expect(ctx.logged('stdout')).toEqual([`a b c|hi|${ctx.runId}|test-pipeline|train|${ctx.runDir}|${join(ctx.root, 'jobs')}`]);
  });

  it('runs an executable script relative to the root and declares it as a reference', async () => {
    await writeFile(join(ctx.root, 'job.sh'), '#!/bin/sh\necho "script got $1"\n');
    await chmod(join(ctx.root, 'job.sh'), 0o755);
    expect(commandStage.references?.(CommandWith.parse({ script: 'job.sh' }))).toEqual([{ field: ['script'], path: 'job.sh' }]);
    await run({ script: 'job.sh', args: ['x'] });
    expect(ctx.logged('stdout')).toEqual(['script got x']);
  });

  it('explains how to fix a script that is not executable or missing', async () => {
    await writeFile(join(ctx.root, 'job.sh'), 'echo hi\n');
    await expect(run({ script: 'job.sh' })).rejects.toThrow(/^could not start script job\.sh: .*EACCES.*chmod \+x job\.sh/);
    await expect(run({ script: 'missing.sh' })).rejects.toThrow(/^could not start script missing\.sh: .*ENOENT.*check the path/);
    await expect(run({ run: 'true', cwd: 'nowhere' })).rejects.toThrow("with.cwd 'nowhere' is not a folder under the project root");
  });

  it('kills the whole process tree quickly when the signal aborts', async () => {
    const controller = new AbortController();
    const aborted = await createTestContext({ signal: controller.signal });
    try {
      const pending = run({ run: 'sleep 30 & echo "bg $!"; sleep 30 & echo "fg $!"; wait' }, aborted);
      while (aborted.logged('stdout').length < 2) await new Promise((r) => setTimeout(r, 10));
      const pids = aborted.logged('stdout').map((line) => Number(line.split(' ')[1]));
      const started = Date.now();
      controller.abort(new Error('stage timed out after 1s'));
      await expect(pending).rejects.toThrow('stage timed out after 1s');
      // /proc may show a killed process for a moment after its pipes closed.
      while (pids.some(isAlive) && Date.now() - started < 1000) await new Promise((r) => setTimeout(r, 10));
      expect(pids.filter(isAlive)).toEqual([]);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await aborted.dispose();
    }
  });

  it('escalates to SIGKILL after the grace period when the command ignores SIGTERM', async () => {
    const controller = new AbortController();
    const aborted = await createTestContext({ signal: controller.signal });
    try {
      const pending = run({ run: "trap '' TERM; echo ready; while true; do sleep 0.05; done" }, aborted);
      while (aborted.logged('stdout').length < 1) await new Promise((r) => setTimeout(r, 10));
      controller.abort(new Error('cancelled'));
      await expect(pending).rejects.toThrow('cancelled');
    } finally {
      await aborted.dispose();
    }
  }, 10_000);

  it('does not hang on background processes the command leaves behind', async () => {
    const started = Date.now();
    await run({ run: 'sleep 30 & echo started' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('requires exactly one of run or script', () => {
    expect(CommandWith.safeParse({ run: 'x', script: 'y' }).error?.issues[0]?.message).toBe('set exactly one of run or script');
  });
});
