/** `weir retry <run id>`: find the run's pipeline, run its next attempt, print it like `weir run`. */
import { AmbiguousRunIdError } from '../ledger/errors.ts';
import { defaultStageKinds } from '../stages/registry.ts';
import { retryRun, RetryRefusedError } from '../use-cases/retry-run.ts';
import type { RunSummary } from '../use-cases/run-pipeline.ts';
import type { CliValues } from './cli.ts';
import { loadOnePipeline } from './cli-backfill.ts';
import { cancelOnSignals } from './cancel-on-signals.ts';
import { EXIT, type Io, UsageError } from './cli-io.ts';
import { rootOf } from './cli-pipelines.ts';
import { progressPrinter } from './cli-run.ts';
import { createLocalRunDeps } from './local-run-deps.ts';

export async function retryCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  if (args.length !== 1) throw new UsageError("'weir retry' takes one run id (a unique prefix is enough); 'weir history <pipeline>' lists them");
  const root = rootOf(values, io);
  const deps = createLocalRunDeps({ root, env: io.env });
  const run = await deps.ledger.getRun(args[0]).catch((error: unknown) => {
    if (error instanceof AmbiguousRunIdError) throw new RetryRefusedError(`retry: '${args[0]}' matches several runs (${error.matches.slice(0, 5).join(', ')}); give more of the id`);
    throw error;
  });
  if (!run) throw new RetryRefusedError(`retry: no run '${args[0]}' in the ledger; 'weir history' lists the runs`);
  const loaded = await loadOnePipeline(run.pipeline, values, io);
  if (!loaded) return EXIT.usage;

  const cancel = cancelOnSignals();
  let summary: RunSummary;
  try {
    const { pipeline, policies, allowWritePaths, channels } = loaded;
    summary = await retryRun(
      run.runId,
      {
        pipeline,
        root,
        kinds: defaultStageKinds(),
        policies,
        allowWritePaths,
        channels,
        signal: cancel.signal,
        listeners: [progressPrinter(values, io)],
        warn: (message) => io.err(`weir: warning: ${message}`),
      },
      deps,
    );
  } finally {
    cancel.dispose();
  }
  if (values.json) io.out(JSON.stringify(summary.record, null, 2));
  else io.out(`attempt ${summary.record.attempt} of run ${summary.record.retryOf}: run ${summary.runId} ${summary.record.status}`);
  const signalled = cancel.received();
  if (signalled) return EXIT.signal(signalled);
  return summary.record.status === 'succeeded' ? EXIT.ok : EXIT.failed;
}
