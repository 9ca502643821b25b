/**
 * The GitHub Actions workflow documents `weir compile` generates, as plain data: one per pipeline
 * with a schedule or params, and one that validates pull requests. A pipeline whose segments need
 * different runners (or shards) becomes plan → one job per segment → finalize; any other, one job.
 * Security rules applied to every
 * document: `permissions: {}` at the top and the least each job needs (`contents: write` only on the
 * job that writes the ledger), actions pinned by full commit SHA, untrusted values (`inputs.*`,
 * `github.event.*`) reach the action through `with:` or scripts through `env:`, never inside `run:`.
 */
import { parseDuration } from '../model/duration.ts';
import type { LoadedPipeline, Param } from '../model/pipeline.ts';
import type { Segment } from '../planner/segments.ts';
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

/**
 * Whether the pipeline needs a job per segment: its segments run on more than one set of runner
 * labels, or one is sharded. Otherwise one job runs it all (disconnected stages on the same runner
 * are separate segments, but splitting them would only add hand-offs).
 */
export function isFannedOut(segments: readonly Segment[]): boolean {
  return new Set(segments.map((s) => labelKey(s.runnerLabels))).size > 1 || segments.some((s) => s.shards !== undefined);
}

/** `runs-on:` for labels: one label as a string, several as a list, none: the default runner. */
export function runsOn(labels: readonly string[]): string | string[] {
  return labels.length === 0 ? DEFAULT_RUNNER : labels.length === 1 ? labels[0] : [...labels];
}

/** The job of a segment: `segment-<id>`, with anything a job id may not hold (letters, digits, -, _) as `_`. */
export function segmentJobId(segment: string): string {
  return `segment-${segment.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

function labelKey(labels: readonly string[]): string {
  return [...new Set(labels)].sort().join('\n');
}

function labelText(labels: readonly string[]): string {
  return labels.length ? labels.join(', ') : DEFAULT_RUNNER;
}

/** The workflow of one pipeline; `segments` are the plan's (splitSegments), which decide between one job and a fan-out. */
export function pipelineWorkflow(pipeline: LoadedPipeline, schedule: UtcSchedule | undefined, options: WorkflowOptions, segments: readonly Segment[]): WorkflowDocument {
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
  const fanOut: FanOut = { name, segments, action: options.action, timeout };
  const jobs = isFannedOut(segments) ? fanOutJobs(fanOut, comments) : { run: oneJob(fanOut) };
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

interface FanOut {
  name: string;
  segments: readonly Segment[];
  action: string;
  timeout: number | undefined;
}

/** The dispatched inputs, typed by the pipeline's params when the run starts (an empty map on a schedule). */
const PARAMS = '${{ toJSON(inputs) }}';

/** The whole pipeline in one job, on the labels all its segments share: it runs and records the run. */
function oneJob({ name, segments, action, timeout }: FanOut): Record<string, unknown> {
  return {
    name: `Run ${name}`,
    'runs-on': runsOn(segments[0]?.runnerLabels ?? []),
    ...(timeout && { 'timeout-minutes': timeout }),
    permissions: { contents: 'write' },
    steps: [checkoutStep(), { name: 'Run the pipeline', uses: action, with: { command: 'run', pipeline: name, params: PARAMS } }],
  };
}

const RUN_ID = '${{ needs.plan.outputs.run-id }}';
/**
 * A segment job runs when the plan started a run (none when nothing was due, or the pipeline is
 * paused) and every job it needs succeeded. `success()` is what GitHub adds to an `if:` without a
 * status function; written out, so that nobody "simplifies" it to `always()`: a segment whose
 * upstream failed, was cancelled or was skipped is skipped, and so is everything downstream of it.
 */
const SEGMENT_IF = "${{ success() && needs.plan.outputs.run-id != '' }}";
/** Finalize runs whatever the segments did (failed, cancelled), so the run is always recorded. */
const FINALIZE_IF = "${{ always() && needs.plan.outputs.run-id != '' }}";

/** plan → one job per segment (`needs:` from the segment DAG, a matrix for shards) → finalize, the one job that writes the ledger. */
function fanOutJobs(fanOut: FanOut, comments: WorkflowComment[]): Record<string, unknown> {
  const { name, action } = fanOut;
  const jobs: Record<string, unknown> = {
    plan: {
      name: `Plan ${name}`,
      'runs-on': DEFAULT_RUNNER,
      'timeout-minutes': VALIDATE_TIMEOUT_MINUTES,
      permissions: { contents: 'read' },
      outputs: { 'run-id': '${{ steps.plan.outputs.run-id }}' },
      steps: [checkoutStep(), { name: 'Start the run', id: 'plan', uses: action, with: { command: 'plan', pipeline: name, handoff: 'artifacts', params: PARAMS } }],
    },
  };
  comments.push({
    path: ['jobs', 'plan'],
    text: ` Starts a run split into ${fanOut.segments.length} segments; tables pass between jobs as artifacts. A segment job runs once every job it needs succeeded\n (a failure skips everything downstream); none runs when the plan started no run (nothing due, or paused).`,
  });
  for (const segment of fanOut.segments) {
    const id = segmentJobId(segment.id);
    jobs[id] = segmentJob(segment, fanOut);
    comments.push({ path: ['jobs', id], text: ` ${describeSegment(segment)}` });
  }
  jobs.finalize = {
    name: `Record ${name}`,
    needs: ['plan', ...fanOut.segments.map((s) => segmentJobId(s.id))],
    if: FINALIZE_IF,
    'runs-on': DEFAULT_RUNNER,
    'timeout-minutes': VALIDATE_TIMEOUT_MINUTES,
    permissions: { contents: 'write' },
    steps: [checkoutStep(), { name: 'Join the segments and write the ledger', uses: action, with: { command: 'finalize', pipeline: name, 'run-id': RUN_ID } }],
  };
  comments.push({ path: ['jobs', 'finalize'], text: ' Always runs once a run started: joins every segment\'s events into one record (failed or skipped segments included) and writes the ledger.' });
  return jobs;
}

function segmentJob(segment: Segment, fanOut: FanOut): Record<string, unknown> {
  const shards = segment.shards?.count;
  const where = labelText(segment.runnerLabels);
  const run: Record<string, string> = { command: 'run', pipeline: fanOut.name, segment: segment.id, ...(shards && { shard: `\${{ matrix.shard }}/${shards}` }), 'run-id': RUN_ID };
  return {
    name: shards ? `${segment.id} \${{ matrix.shard }}/${shards} on ${where}` : `${segment.id} on ${where}`,
    needs: ['plan', ...segment.needs.map(segmentJobId)],
    if: SEGMENT_IF,
    'runs-on': runsOn(segment.runnerLabels),
    ...(fanOut.timeout && { 'timeout-minutes': fanOut.timeout }),
    permissions: { contents: 'read' },
    ...(shards && { strategy: { 'fail-fast': false, matrix: { shard: Array.from({ length: shards }, (_, i) => i + 1) } } }),
    steps: [checkoutStep(), { name: shards ? 'Run a shard of the segment' : 'Run the segment', uses: fanOut.action, with: run }],
  };
}

/** The comment above a segment job: its stages, its shards, what it hands on. */
function describeSegment(segment: Segment): string {
  const stages = `Segment ${segment.id}: stage${segment.stages.length === 1 ? '' : 's'} ${segment.stages.join(', ')}`;
  const shards = segment.shards && `, in ${segment.shards.count} shards of ${segment.shards.table} (${segment.shards.by ? `by ${segment.shards.by}` : 'by row number'})`;
  const handsOn = segment.outputs.length ? `; hands on ${segment.outputs.map((t) => t.table).join(', ')}` : '';
  return `${stages}${shards ?? ''}${handsOn}.`;
}

export const CONTROL_WORKFLOW_PATH = '.github/workflows/weir-control.yml';

/**
 * Operations by hand (`workflow_dispatch`): backfill a range of a pipeline, retry a failed run, pause or unpause it.
 * One workflow for every pipeline with a schedule or params; it joins the pipeline's concurrency
 * group, so it never writes the ledger beside a scheduled run of the same pipeline.
 */
export function controlWorkflow(pipelines: readonly string[], options: WorkflowOptions): WorkflowDocument {
  const inputs = {
    operation: { description: 'What to do', type: 'choice', required: true, options: ['backfill', 'retry', 'pause', 'unpause'], default: 'backfill' },
    pipeline: { description: 'The pipeline', type: 'choice', required: true, options: [...pipelines] },
    from: { description: 'backfill: first day (YYYY-MM-DD) of the range', type: 'string', required: false },
    to: { description: 'backfill: last day (YYYY-MM-DD, included) of the range', type: 'string', required: false },
    reprocess: { description: 'backfill: which intervals run', type: 'choice', required: false, options: ['failed', 'missing', 'all'], default: 'failed' },
    'dry-run': { description: 'backfill: list what would run, run nothing', type: 'boolean', required: false, default: false },
    'run-id': { description: 'retry: the run to retry', type: 'string', required: false },
    reason: { description: 'pause: why (recorded on the ledger branch)', type: 'string', required: false },
  };
  const document = {
    name: 'weir: operations',
    on: { workflow_dispatch: { inputs } },
    permissions: {},
    concurrency: { group: 'weir-${{ inputs.pipeline }}', 'cancel-in-progress': false },
    jobs: {
      operate: {
        name: '${{ inputs.operation }} ${{ inputs.pipeline }}',
        'runs-on': DEFAULT_RUNNER,
        permissions: { contents: 'write' },
        steps: [
          checkoutStep(),
          {
            name: 'Run the operation',
            uses: options.action,
            with: { command: '${{ inputs.operation }}', pipeline: '${{ inputs.pipeline }}', from: '${{ inputs.from }}', to: '${{ inputs.to }}', reprocess: '${{ inputs.reprocess }}', 'dry-run': '${{ inputs.dry-run }}', 'run-id': '${{ inputs.run-id }}', reason: '${{ inputs.reason }}' },
          },
        ],
      },
    },
  };
  const comments: WorkflowComment[] = [
    { path: ['concurrency'], text: " The pipeline's own group: an operation waits for a scheduled run of the same pipeline to finish, and the other way round." },
    { path: ['jobs', 'operate', 'permissions'], text: ' Writes the ledger branch (runs, pause).' },
  ];
  return { path: CONTROL_WORKFLOW_PATH, header: header('pipelines/', options), document, comments, pins: [CHECKOUT] };
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
