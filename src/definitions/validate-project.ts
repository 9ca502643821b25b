/**
 * `weir validate`: every pipeline of the project, with diagnostics across files (two files with
 * the same pipeline name would share run history in the ledger).
 */
import { loadWeirConfig } from './weir-config.ts';
import type { PolicyConfig } from '../policies/policy.ts';
import { compareDiagnostics, type Diagnostic } from '../model/diagnostic.ts';
import type { LoadedPipeline } from '../model/pipeline.ts';
import type { StageKindRegistry } from '../stages/registry.ts';
import { discoverPipelineFiles } from './discover.ts';
import { loadPipelineFile } from './load-pipeline.ts';
import type { ChannelConfigs } from '../notify/channel-config.ts';

export interface ValidateOptions {
  /** Project root: the folder holding pipelines/. */
  root: string;
  kinds: StageKindRegistry;
  /** Given: weir.yml is not read, and these policies (and allowWritePaths) are used instead. */
  policies?: PolicyConfig;
  allowWritePaths?: readonly string[];
  /** Given with policies: weir.yml's channels. Default: none. */
  channels?: ChannelConfigs;
}

export interface ProjectValidation {
  /** Pipelines without errors. */
  pipelines: LoadedPipeline[];
  /** Sorted by file, line, column. */
  diagnostics: Diagnostic[];
  /** Every file validated, relative to the root when inside it. */
  files: string[];
  /** Policies from weir.yml (empty when it is absent), to run the pipelines with. */
  policies: PolicyConfig;
  /** weir.yml's allow_write_paths, for the run-time check of rendered write paths. */
  allowWritePaths: string[];
  /** weir.yml's notification channels ({} when none), for the runs' notifications. */
  channels: ChannelConfigs;
}

/** Validates the pipeline files under `paths` (default: pipelines/). Throws when a path does not exist. */
export async function validateProject(paths: readonly string[], options: ValidateOptions): Promise<ProjectValidation> {
  const files = await discoverPipelineFiles(paths, options.root);
  // weir.yml is validated with the pipelines: a stage's policy is only as valid as the config it names.
  const weirConfig = options.policies
    ? { config: options.policies, allowWritePaths: [...(options.allowWritePaths ?? [])], channels: options.channels ?? {}, diagnostics: [] }
    : await loadWeirConfig(options.root);
  const { config: policies, allowWritePaths, channels } = weirConfig;
  const channelNames = Object.keys(channels);
  const results = await Promise.all(files.map((file) => loadPipelineFile(file, { ...options, policies, allowWritePaths, channels: channelNames })));
  const diagnostics = [...weirConfig.diagnostics, ...results.flatMap((result) => result.diagnostics)];
  const pipelines: LoadedPipeline[] = [];
  const firstFileByName = new Map<string, string>();
  for (const result of results) {
    const pipeline = result.pipeline;
    if (!pipeline) continue;
    const first = firstFileByName.get(pipeline.spec.name);
    if (first === undefined) {
      firstFileByName.set(pipeline.spec.name, pipeline.file);
      pipelines.push(pipeline);
      continue;
    }
    diagnostics.push({
      code: 'WEIR105',
      severity: 'error',
      file: pipeline.file,
      ...pipeline.locate(['name']),
      message: `pipeline name '${pipeline.spec.name}' is already used by ${first}: names must be unique in a project, so rename one`,
    });
  }
  return { pipelines, diagnostics: diagnostics.sort(compareDiagnostics), files, policies, allowWritePaths, channels };
}
