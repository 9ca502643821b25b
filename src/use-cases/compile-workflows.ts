/**
 * The GitHub Actions workflow documents `weir compile` generates, as plain data: one per pipeline
 * with a schedule or params, and one that validates pull requests. Security rules applied to every
 * document: `permissions: {}` at the top and the least each job needs (`contents: write` only on the
 * job that writes the ledger), actions pinned by full commit SHA, untrusted values (`inputs.*`,
 * `github.event.*`) reach the action through `with:` or scripts through `env:`, never inside `run:`.
 */
import { parseDuration } from '../model/duration.ts';
import { type LoadedPipeline, type Param, runsOnLabel } from '../model/pipeline.ts';
import type { UtcSchedule } from './compile-cron.ts';

/** A third-party action pinned by commit; the tag is written beside it for people. */
export interface PinnedAction {
  repo: string;
  sha: string;
  tag: string;
}

/** Pins bumped by hand (and checked in by the workflows' fresh-check): tags can move, SHAs cannot. */
export const CHECKOUT: PinnedAction = { repo: 'actions/checkout', sha: '11bd71901bbe5b1630ceea73d27597364c9af683', tag: 'v4.2.2' };
export const SETUP_NODE: PinnedAction = { repo: 'actions/setup-node', sha: '49933ea5288caeca8642d1e84afbd3f7d6820020', tag: 'v4.4.0' };

/** Hosted runner for jobs that need no special hardware. */
export const DEFAULT_RUNNER = 'ubuntu-latest';
/** Queue, checkout and the DuckDB binding's first download, on top of the pipeline's own timeout. */
export const SETUP_MARGIN_MINUTES = 5;
/** The validation job runs no pipeline code: minutes are enough. */
export const VALIDATE_TIMEOUT_MINUTES = 10;

export interface WorkflowOptions {
  /** `uses:` of the weir action: `owner/weir@v1`, or `./` in weir's own repository. */
  action: string;
  /** The command that regenerates the files, written into their header. */
  regenerate: string;
  /** The npm package and version that checks freshness in the PR workflow (ignored with `./`). */
  cliPackage: string;
}

/** A comment placed before the value at `path` of the document. */
export interface WorkflowComment {
  path: (string | number)[];
  text: string;
}

export interface WorkflowDocument {
  /** Relative to the project root: `.github/workflows/weir-<name>.yml`. */
  path: string;
  header: string[];
  document: Record<string, unknown>;
  comments: WorkflowComment[];
  /** Pinned actions used, so the renderer can write their tag after the SHA. */
  pins: PinnedAction[];
}

export function pinned(action: PinnedAction): string {
  return `${action.repo}@${action.sha}`;
}

function checkoutStep(): Record<string, unknown> {
  // The action pushes the ledger with the token in an HTTP header; nothing needs it in .git/config.
  return { name: 'Check out', uses: pinned(CHECKOUT), with: { 'persist-credentials': false } };
}

/** `workflow_dispatch` inputs from params. Secret params are left out: inputs are shown in the run's UI. */
export function dispatchInputs(params: Record<string, Param>): Record<string, Record<string, unknown>> {
  const inputs: Record<string, Record<string, unknown>> = {};
  for (const [name, param] of Object.entries(params)) {
    if (param.secret) continue;
    inputs[name] = dispatchInput(name, param);
  }
  return inputs;
}

function dispatchInput(name: string, param: Param): Record<string, unknown> {
  const described = param.description ?? `Parameter ${name}`;
  const input: Record<string, unknown> = { description: described, required: param.required ?? false };
  switch (param.type) {
    case 'string':
      input.type = 'string';
      break;
    case 'number':
      input.type = 'number';
      break;
    case 'integer':
      input.type = 'number';
      input.description = `${described} (a whole number)`;
      break;
    case 'boolean':
      input.type = 'boolean';
      break;
    case 'date':
      // GitHub has no date input: a string, with the format weir checks spelled out.
      input.type = 'string';
      input.description = `${described} (a date, YYYY-MM-DD)`;
      break;
    case 'choice':
      input.type = 'choice';
      input.options = (param.options ?? []).map(String);
      break;
  }
  if (param.default !== undefined) input.default = param.type === 'choice' ? String(param.default) : param.default;
  return input;
}

function jobTimeout(pipeline: LoadedPipeline): number | undefined {
  if (pipeline.spec.timeout === undefined) return undefined;
  return Math.ceil(parseDuration(pipeline.spec.timeout) / 60_000) + SETUP_MARGIN_MINUTES;
}

/** Labels of stages that must run elsewhere than the main job (a GPU runner…). */
export function customRunnerLabels(pipeline: LoadedPipeline): string[] {
  return [...new Set(Object.values(pipeline.spec.stages).map(runsOnLabel).filter((l): l is string => l !== undefined))].sort();
}

export function pipelineWorkflow(pipeline: LoadedPipeline, schedule: UtcSchedule | undefined, options: WorkflowOptions): WorkflowDocument {
  const name = pipeline.spec.name;
  const on: Record<string, unknown> = {};
  const comments: WorkflowComment[] = [];
  if (schedule) {
    on.schedule = schedule.crons.map((cron) => ({ cron }));
    if (schedule.note) comments.push({ path: ['on', 'schedule'], text: ` ${schedule.note}` });
  }
  const inputs = dispatchInputs(pipeline.spec.params ?? {});
  on.workflow_dispatch = Object.keys(inputs).length ? { inputs } : null;
  const timeout = jobTimeout(pipeline);
  const runWith = { command: 'run', pipeline: name, params: '${{ toJSON(inputs) }}' };
  const labels = customRunnerLabels(pipeline);
  if (labels.length) comments.push({ path: ['jobs', 'segment'], text: ` One job per segment of the plan; stages outside the main job run on: ${labels.map((l) => `[${l.split(',').join(', ')}]`).join(', ')}.` });
  const jobs = labels.length
    ? fanOutJobs(name, runWith, options, timeout)
    : { run: { name: `Run ${name}`, 'runs-on': DEFAULT_RUNNER, ...(timeout && { 'timeout-minutes': timeout }), permissions: { contents: 'write' }, steps: [checkoutStep(), { name: 'Run the pipeline', uses: options.action, with: runWith }] } };
  const document = {
    name: `weir: ${name}`,
    on,
    permissions: {},
    // One run of a pipeline at a time writes its ledger: later ones wait, none is cancelled mid-write.
    concurrency: { group: `weir-${name}`, 'cancel-in-progress': false },
    jobs,
  };
  comments.push({ path: ['concurrency'], text: ' Runs of this pipeline queue one after another: a run writing the ledger is never cancelled.' });
  return { path: workflowPath(name), header: header(pipeline.file, options), document, comments, pins: [CHECKOUT] };
}

/** Stages on other runners: plan, one matrix job per segment (runs-on from the plan), then one finalize that writes the ledger. */
function fanOutJobs(name: string, runWith: Record<string, string>, options: WorkflowOptions, timeout: number | undefined): Record<string, unknown> {
  const limit = timeout ? { 'timeout-minutes': timeout } : {};
  return {
    plan: {
      name: `Plan ${name}`,
      'runs-on': DEFAULT_RUNNER,
      'timeout-minutes': VALIDATE_TIMEOUT_MINUTES,
      permissions: { contents: 'read' },
      outputs: { matrix: '${{ steps.plan.outputs.matrix }}' },
      steps: [checkoutStep(), { name: 'Plan the segments', id: 'plan', uses: options.action, with: { command: 'plan', pipeline: name } }],
    },
    segment: {
      name: 'Segment ${{ matrix.segment }}',
      needs: 'plan',
      'runs-on': '${{ matrix.runs-on }}',
      ...limit,
      permissions: { contents: 'read' },
      strategy: { 'fail-fast': false, matrix: '${{ fromJSON(needs.plan.outputs.matrix) }}' },
      steps: [checkoutStep(), { name: 'Run the segment', uses: options.action, with: { ...runWith, segment: '${{ matrix.segment }}' } }],
    },
    finalize: {
      name: `Record ${name}`,
      needs: ['plan', 'segment'],
      if: '${{ always() }}',
      'runs-on': DEFAULT_RUNNER,
      'timeout-minutes': VALIDATE_TIMEOUT_MINUTES,
      permissions: { contents: 'write' },
      steps: [checkoutStep(), { name: 'Join the segments and write the ledger', uses: options.action, with: { command: 'finalize', pipeline: name } }],
    },
  };
}

export const VALIDATE_WORKFLOW_PATH = '.github/workflows/weir-validate.yml';

export function validateWorkflow(options: WorkflowOptions): WorkflowDocument {
  const inRepository = options.action === './';
  // Fork PRs run with a read-only token and no secrets; validation executes no pipeline code.
  const freshness = inRepository
    ? [{ name: 'Install', run: 'npm ci --no-audit --no-fund' }, { name: 'Generated workflows are fresh', run: `node bin/weir.js ${options.regenerate.replace(/^npx weir /, '')} --check` }]
    : [{ name: 'Generated workflows are fresh', run: `npx --yes ${options.cliPackage} ${options.regenerate.replace(/^npx weir /, '')} --check` }];
  const document = {
    name: 'weir: validate',
    on: { pull_request: { paths: ['pipelines/**', 'weir.yml', '.github/workflows/weir-*.yml'] }, workflow_dispatch: null },
    permissions: {},
    jobs: {
      validate: {
        name: 'Validate pipelines',
        'runs-on': DEFAULT_RUNNER,
        'timeout-minutes': VALIDATE_TIMEOUT_MINUTES,
        permissions: { contents: 'read' },
        steps: [
          checkoutStep(),
          { name: 'Validate', uses: options.action, with: { command: 'validate' } },
          { name: 'Set up Node', uses: pinned(SETUP_NODE), with: { 'node-version': 24 } },
          ...freshness,
        ],
      },
    },
  };
  return { path: VALIDATE_WORKFLOW_PATH, header: header('pipelines/', options), document, comments: [], pins: [CHECKOUT, SETUP_NODE] };
}

export function workflowPath(pipeline: string): string {
  return `.github/workflows/weir-${pipeline}.yml`;
}

/** First line of every generated file: `weir compile` recognises its own files by it. */
export const GENERATED_MARKER = 'Generated by `weir compile`';

function header(source: string, options: WorkflowOptions): string[] {
  return [`${GENERATED_MARKER} from ${source}: do not edit by hand.`, `Regenerate with \`${options.regenerate}\`; \`${options.regenerate} --check\` tells whether it is fresh.`];
}
