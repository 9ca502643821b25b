/**
 * SIGINT and SIGTERM (GitHub's cancel sends SIGINT, then SIGTERM) abort one signal with a
 * CancelledError, so a run stops and is recorded `cancelled`. One helper for every entry point
 * that runs pipelines (run, retry, backfill, the Action).
 */
import { CancelledError } from '../model/errors.ts';

export interface SignalCancellation {
  signal: AbortSignal;
  /** The first signal received, if any: the CLI exits 128 + its number. */
  received(): NodeJS.Signals | undefined;
  /** Stops listening (call in `finally`). */
  dispose(): void;
}

export function cancelOnSignals(): SignalCancellation {
  const controller = new AbortController();
  let first: NodeJS.Signals | undefined;
  const onSignal = (name: NodeJS.Signals) => {
    first ??= name;
    if (!controller.signal.aborted) controller.abort(new CancelledError(`cancelled by ${name}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    received: () => first,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
