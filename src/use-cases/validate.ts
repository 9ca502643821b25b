/**
 * The `validate` use case: every pipeline file under the given paths (default: pipelines/), with
 * weir.yml, as data. Never runs stage code and never writes.
 */
import type { ChannelConfigs } from '../notify/channel-config.ts';
import { discoverPipelineFiles, PIPELINES_DIR } from '../definitions/discover.ts';
import { validateProject } from '../definitions/validate-project.ts';
import { loadWeirConfig } from '../definitions/weir-config.ts';
import { hasErrors, type Diagnostic } from '../model/diagnostic.ts';
import type { LoadedPipeline } from '../model/pipeline.ts';
import type { PolicyConfig } from '../policies/policy.ts';
import type { StageKindRegistry } from '../stages/registry.ts';

export interface ValidateDeps {
  kinds: StageKindRegistry;
}

export interface ValidateRequest {
  /** Project root: the folder holding pipelines/ and weir.yml. */
  root: string;
  /** Files or folders, absolute or relative to the root. Default: pipelines/. */
  paths?: readonly string[];
}

interface Checked {
  /** Every file validated, relative to the root when inside it. */
  files: string[];
  /** Sorted by file, line, column; warnings only when `ok`. */
  diagnostics: Diagnostic[];
}

export type ValidateResult =
  | (Checked & { ok: true; pipelines: LoadedPipeline[]; policies: PolicyConfig; allowWritePaths: string[]; channels: ChannelConfigs })
  /** The project has no pipeline files yet (only when no paths were given). */
  | (Checked & { ok: true; empty: true; pipelines: []; policies: PolicyConfig; allowWritePaths: string[]; channels: ChannelConfigs })
  | (Checked & { ok: false; pipelines: LoadedPipeline[] });

export async function validatePipelines(request: ValidateRequest, deps: ValidateDeps): Promise<ValidateResult> {
  if (!request.paths?.length) {
    // A new project may hold weir.yml and no pipelines yet: that is "empty", not a wrong path.
    const files = await discoverPipelineFiles([PIPELINES_DIR], request.root).catch(() => []);
    if (files.length === 0) return validateEmptyProject(request.root);
  }
  const paths = request.paths?.length ? request.paths : [PIPELINES_DIR];
  const { files, pipelines, diagnostics, policies, allowWritePaths, channels } = await validateProject(paths, { root: request.root, kinds: deps.kinds });
  if (hasErrors(diagnostics)) return { ok: false, files, diagnostics, pipelines };
  return { ok: true, files, diagnostics, pipelines, policies, allowWritePaths, channels };
}

async function validateEmptyProject(root: string): Promise<ValidateResult> {
  const { config, diagnostics, allowWritePaths, channels } = await loadWeirConfig(root);
  if (hasErrors(diagnostics)) return { ok: false, files: [], diagnostics, pipelines: [] };
  return { ok: true, empty: true, files: [], diagnostics, pipelines: [], policies: config, allowWritePaths, channels };
}
