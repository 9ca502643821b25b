/**
 * `weir doctor`: what this machine offers (Node, the DuckDB binding, GPUs, git and the ledger
 * branch) and, per pipeline of the project, what the pipeline needs of it (GPU stages, runner
 * labels, environment variables its templates read, executable scripts), as ✓/✗ lines of data.
 * Every fact comes from injected probes, so the use case itself spawns, loads and reads nothing.
 */
import { findConditionExpressions, findTemplateExpressions } from '../model/template.ts';
import { describeGpu, gpuFacts, type GpuReport } from '../model/resources.ts';
import type { LoadedPipeline, Stage } from '../model/pipeline.ts';
import type { Diagnostic } from '../model/diagnostic.ts';

/** `ok` ✓; `fail` ✗ (something needed is missing: exit 1); `warn` ! (worth knowing, not needed); `info` · (a fact). */
export type CheckStatus = 'ok' | 'fail' | 'warn' | 'info';

export interface DoctorCheck {
  status: CheckStatus;
  /** What was checked, and what was found. */
  text: string;
  /** What to do about a `fail` or `warn`. */
  fix?: string;
}

export type DuckDbProbe = { loads: true; version: string; binding?: string } | { loads: false; error: string };

export interface GitProbe {
  /** `git --version`, or undefined when git does not run. */
  version?: string;
  /** Whether the folder is inside a git work tree. */
  checkout: boolean;
  /** Whether the ledger branch exists as a local branch and as a fetched `origin/<branch>`. */
  ledgerBranch: { local: boolean; origin: boolean };
}

export interface DoctorDeps {
  /** `process.versions.node`. */
  nodeVersion: string;
  duckdb(): Promise<DuckDbProbe>;
  gpu(): Promise<GpuReport>;
  git(dir: string, ledgerBranch: string): Promise<GitProbe>;
  env: Readonly<Record<string, string | undefined>>;
  /** Whether a path (absolute) exists. */
  exists(path: string): boolean;
  /** Whether a file (absolute) exists and may be executed. */
  isExecutable(path: string): boolean;
  /** The project's pipelines with their diagnostics (as `weir validate` finds them). */
  loadPipelines(root: string): Promise<{ files: string[]; pipelines: LoadedPipeline[]; diagnostics: Diagnostic[] }>;
  resolve(root: string, path: string): string;
}

export interface DoctorRequest {
  /** The project root, or undefined outside a project (then only the machine is checked). */
  root?: string;
  /** The folder doctor runs in (git is checked there when there is no project). */
  cwd: string;
  ledgerBranch: string;
}

export interface PipelineNeeds {
  pipeline: string;
  file: string;
  checks: DoctorCheck[];
}

export interface DoctorReport {
  /** false when something a pipeline (or weir itself) needs is missing. */
  ok: boolean;
  machine: DoctorCheck[];
  /** The project's root, its pipeline files (relative to the root) and the checks of the project as a whole. */
  project?: { root: string; files: string[]; checks: DoctorCheck[] };
  pipelines: PipelineNeeds[];
}

/** The Node GitHub runs JavaScript actions on (`runs.using: node24`). */
export const ACTIONS_NODE_MAJOR = 24;

export async function diagnose(request: DoctorRequest, deps: DoctorDeps): Promise<DoctorReport> {
  const [duckdb, gpu, git] = await Promise.all([deps.duckdb(), deps.gpu(), deps.git(request.root ?? request.cwd, request.ledgerBranch)]);
  const machine = [nodeCheck(deps.nodeVersion), duckdbCheck(duckdb), gpuCheck(gpu), ...gitChecks(git, request.ledgerBranch)];
  if (request.root === undefined) return { ok: !hasFailure(machine), machine, pipelines: [] };
  const { files, pipelines, diagnostics } = await deps.loadPipelines(request.root);
  const project = { root: request.root, files, checks: [ledgerCheck(request.root, git, request.ledgerBranch, deps), ...diagnosticChecks(diagnostics)] };
  const needs = pipelines.map((p) => pipelineNeeds(p, gpu, request.root!, deps));
  const ok = !hasFailure(machine) && !hasFailure(project.checks) && needs.every((n) => !hasFailure(n.checks));
  return { ok, machine, project, pipelines: needs };
}

function hasFailure(checks: readonly DoctorCheck[]): boolean {
  return checks.some((c) => c.status === 'fail');
}

function nodeCheck(version: string): DoctorCheck {
  const major = Number(version.split('.')[0]);
  if (major >= ACTIONS_NODE_MAJOR) return { status: 'ok', text: `Node ${version} (GitHub Actions runs the Action on Node ${ACTIONS_NODE_MAJOR})` };
  return { status: 'warn', text: `Node ${version}: the CLI runs on it; GitHub Actions runs the Action on Node ${ACTIONS_NODE_MAJOR}`, fix: `install Node ${ACTIONS_NODE_MAJOR} to run what CI runs` };
}

function duckdbCheck(probe: DuckDbProbe): DoctorCheck {
  if (probe.loads) return { status: 'ok', text: `DuckDB ${probe.version} loads${probe.binding ? ` (binding ${probe.binding})` : ''}` };
  return { status: 'fail', text: `DuckDB does not load: ${probe.error}`, fix: "run 'npm ci' (the binding is the @duckdb/node-bindings-<platform> package)" };
}

function gpuCheck(report: GpuReport): DoctorCheck {
  const why = report.reason ? ` (${report.reason})` : '';
  if (report.available) return { status: 'ok', text: `GPU: ${report.source === 'override' ? `assumed present${why}` : describeGpu(gpuFacts(report))}` };
  return { status: 'info', text: `GPU: none${why}` };
}

function gitChecks(git: GitProbe, branch: string): DoctorCheck[] {
  if (git.version === undefined) return [{ status: 'warn', text: 'git: not found', fix: 'install git: the ledger branch and `weir compile` need it' }];
  const checks: DoctorCheck[] = [{ status: 'ok', text: `git ${git.version}` }];
  if (!git.checkout) checks.push({ status: 'info', text: 'not a git checkout: the ledger stays in local files' });
  else {
    const where = [git.ledgerBranch.local && 'local', git.ledgerBranch.origin && 'origin'].filter(Boolean).join(' and ');
    checks.push({ status: 'info', text: where ? `ledger branch ${branch}: ${where}` : `ledger branch ${branch}: not here (the Action creates it on its first run; 'git fetch origin ${branch}' brings it)` });
  }
  return checks;
}

/** Which ledger `weir history` and `weir status` read here (the same choice as the CLI's default). */
function ledgerCheck(root: string, git: GitProbe, branch: string, deps: DoctorDeps): DoctorCheck {
  if (deps.exists(deps.resolve(root, '.weir/ledger'))) return { status: 'info', text: 'ledger: .weir/ledger (local files)' };
  if (git.checkout && (git.ledgerBranch.local || git.ledgerBranch.origin)) return { status: 'info', text: `ledger: git branch ${branch} (read here; the Action writes it)` };
  return { status: 'info', text: 'ledger: .weir/ledger (none yet; the first run creates it)' };
}

function diagnosticChecks(diagnostics: readonly Diagnostic[]): DoctorCheck[] {
  const errors = new Map<string, number>();
  for (const d of diagnostics) if (d.severity === 'error') errors.set(d.file, (errors.get(d.file) ?? 0) + 1);
  return [...errors].map(([file, n]) => ({ status: 'fail' as const, text: `${file}: ${n} error${n === 1 ? '' : 's'}`, fix: `run 'weir validate ${file}'` }));
}

function pipelineNeeds(pipeline: LoadedPipeline, gpu: GpuReport, root: string, deps: DoctorDeps): PipelineNeeds {
  const stages = Object.entries(pipeline.spec.stages ?? {}) as [string, Stage][];
  const checks = [...gpuNeeds(stages, gpu), ...runnerNeeds(stages), ...envNeeds(pipeline, deps.env), ...scriptNeeds(stages, root, deps)];
  if (checks.length === 0) checks.push({ status: 'ok', text: 'needs nothing special of this machine' });
  return { pipeline: pipeline.spec.name, file: pipeline.file, checks };
}

/** `runs-on` as a display list, `self-hosted, gpu`; undefined for the default runner. */
function runsOnLabel(stage: Stage): string | undefined {
  const value = stage['runs-on'];
  return value === undefined ? undefined : typeof value === 'string' ? value : value.join(', ');
}

function gpuNeeds(stages: readonly [string, Stage][], gpu: GpuReport): DoctorCheck[] {
  return stages
    .filter(([, s]) => s.requires?.includes('gpu'))
    .map(([name, s]) => {
      if (gpu.available) return { status: 'ok' as const, text: `stage ${name} requires a gpu: present` };
      const label = runsOnLabel(s);
      const where = label ? `in CI it runs on [${label}]` : "add 'runs-on: [self-hosted, gpu]' so CI runs it on a GPU runner";
      return { status: 'fail' as const, text: `stage ${name} requires a gpu: none here`, fix: `${where}; 'weir run' here fails it unless WEIR_GPU=1 lifts the requirement` };
    });
}

function runnerNeeds(stages: readonly [string, Stage][]): DoctorCheck[] {
  const byLabel = new Map<string, string[]>();
  for (const [name, s] of stages) {
    const label = runsOnLabel(s);
    if (label) byLabel.set(label, [...(byLabel.get(label) ?? []), name]);
  }
  return [...byLabel].map(([label, names]) => ({ status: 'info' as const, text: `runs-on [${label}]: ${names.join(', ')}` }));
}

/**
 * The env vars the pipeline's templates read. A template fails on an unset one unless it has a
 * `default(…)`; an `if:` condition reads an unset one as empty: both only warn.
 */
function envNeeds(pipeline: LoadedPipeline, env: DoctorDeps['env']): DoctorCheck[] {
  /** `optional`: why an unset value is fine, as long as no reference needs it (`required`). */
  const refs = new Map<string, { where: Set<string>; required: boolean; optional?: string }>();
  const note = (where: string, template: string, condition: boolean) => {
    for (const expression of condition ? findConditionExpressions(template) : findTemplateExpressions(template)) {
      for (const [rootName, name] of expression.paths) {
        if (rootName !== 'env' || name === undefined) continue;
        const ref = refs.get(name) ?? { where: new Set<string>(), required: false };
        ref.where.add(where);
        const optional = condition ? 'its condition reads it as empty' : /\|\s*default\b/.test(expression.source) ? 'its default is used' : undefined;
        if (optional === undefined) ref.required = true;
        else ref.optional ??= optional;
        refs.set(name, ref);
      }
    }
  };
  const { stages, ...rest } = pipeline.spec;
  for (const text of stringsIn(rest)) note('pipeline', text, false);
  for (const [name, stage] of Object.entries(stages ?? {}) as [string, Stage][]) {
    const { if: condition, ...fields } = stage;
    if (typeof condition === 'string') note(`stage ${name}`, condition, true);
    for (const text of stringsIn(fields)) note(`stage ${name}`, text, false);
  }
  return [...refs]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, ref]): DoctorCheck => {
      const used = [...ref.where].join(', ');
      if (env[name] !== undefined) return { status: 'ok', text: `env ${name} is set (${used})` };
      if (!ref.required) return { status: 'warn', text: `env ${name} is not set; ${ref.optional} (${used})` };
      return { status: 'fail', text: `env ${name} is not set (${used})`, fix: `export ${name}=… (in Actions: an env: or secrets entry of the workflow)` };
    });
}

function scriptNeeds(stages: readonly [string, Stage][], root: string, deps: DoctorDeps): DoctorCheck[] {
  return stages.flatMap(([name, s]): DoctorCheck[] => {
    const script = s.uses === 'command' ? (s.with as { script?: unknown } | undefined)?.script : undefined;
    if (typeof script !== 'string' || script.includes('{{')) return [];
    const file = deps.resolve(root, script);
    if (deps.isExecutable(file)) return [{ status: 'ok' as const, text: `stage ${name}: ${script} is executable` }];
    if (!deps.exists(file)) return [{ status: 'fail' as const, text: `stage ${name}: ${script} does not exist`, fix: `create ${script}, or fix with.script` }];
    return [{ status: 'fail' as const, text: `stage ${name}: ${script} is not executable`, fix: `chmod +x ${script} (and commit the mode: git update-index --chmod=+x ${script})` }];
  });
}

/** Every string in a parsed YAML value. */
function* stringsIn(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const item of value) yield* stringsIn(item);
  else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) yield* stringsIn(item);
}
