/**
 * The GitHub Action's entry point (bundled into dist/index.js, run by the runner on node24): the
 * Action's composition root. It reads the inputs, masks the declared secrets, calls the same use
 * cases as the CLI (validate, plan, run) and sets the outputs; any error fails the step once.
 */
import { MIN_SECRET_CHARS } from '../model/redact.ts';
import { createActionsRuntime, type ActionsRuntime } from '../adapters/github-actions.ts';
import { declaredSecretValues, readActionInputs, type ActionInputs } from './action-inputs.ts';
import { validateAction } from './action-validate.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** The token and the env values named in `secrets`, masked before anything else is logged. */
function maskDeclaredSecrets(inputs: ActionInputs, env: Env, runtime: ActionsRuntime): void {
  if (inputs.token) runtime.setSecret(inputs.token);
  for (const name of inputs.secretNames) {
    if (name.includes('*')) continue; // a pattern: matched below, and matching nothing is no mistake
    const value = env[name];
    if (value === undefined) runtime.warning(`input 'secrets' names ${name}, which is not in the step's environment: map it with 'env: { ${name}: \${{ secrets.${name} }} }'`);
  }
  for (const value of declaredSecretValues(inputs.secretNames, env)) if (value.length >= MIN_SECRET_CHARS) runtime.setSecret(value);
}

export async function runWeirAction(runtime: ActionsRuntime, env: Env, cwd: string): Promise<void> {
  try {
    const inputs = readActionInputs(runtime, env, cwd);
    maskDeclaredSecrets(inputs, env, runtime);
    if (inputs.command === 'backfill' || inputs.command === 'retry' || inputs.command === 'pause' || inputs.command === 'unpause') {
      // operations from workflow_dispatch.
      const control = await import('./action-control.ts');
      if (inputs.command === 'backfill') await control.backfillAction(inputs, runtime, env);
      else if (inputs.command === 'retry') await control.retryAction(inputs, runtime, env);
      else await control.pauseAction(inputs, runtime, env, inputs.command === 'pause');
    } else if (inputs.command === 'finalize' || (inputs.command === 'run' && inputs.segment) || (inputs.command === 'plan' && inputs.handoff)) {
      // fan-out: the jobs of a run split into segments.
      const fanOut = await import('./action-segments.ts');
      const job = inputs.command === 'finalize' ? fanOut.finalizeAction : inputs.command === 'run' ? fanOut.segmentAction : fanOut.planSegmentsAction;
      await job(inputs, runtime, env);
    } else if (inputs.command === 'run') {
      // Loaded only for runs: validation never loads the run engine.
      const { runAction } = await import('./action-run.ts');
      await runAction(inputs, runtime, env);
    } else {
      await validateAction(inputs, runtime);
    }
  } catch (error) {
    runtime.setFailed(`weir: ${(error as Error)?.message ?? String(error)}`);
  }
}

await runWeirAction(createActionsRuntime(), process.env, process.cwd());
