/**
 * The `site` use case: reads the ledger and the pipelines and renders the static status site as a
 * list of pages (path relative to the site root, HTML). Read-only; writing the files and serving
 * them is the entry point's job.
 */
import type { LedgerStore } from '../ledger/ledger-store.ts';
import type { RunRecord } from '../ledger/run-record.ts';
import type { PipelineSpec } from '../model/pipeline.ts';
import { runPagePath } from '../site/html.ts';
import { renderOverviewPage } from '../site/overview-page.ts';
import { renderRunPage, type RunArtifactLink } from '../site/run-page.ts';
import type { PipelineOverview, SiteModel } from '../site/site-model.ts';
import type { StageKindRegistry } from '../stages/registry.ts';
import { runArtifactName } from './run-artifact.ts';
import { statusOf, summarizeSlaBreaches } from './status.ts';
import { validatePipelines } from './validate.ts';

/** Runs per pipeline on the site: a month of daily runs, and a strip that still fits a phone. */
export const DEFAULT_RUNS_PER_PIPELINE = 30;

export interface SiteDeps {
  /** `readControl`: without it, pause state is not shown (as in `weir status`). */
  ledger: Pick<LedgerStore, 'listRuns' | 'pipelines'> & Partial<Pick<LedgerStore, 'readControl'>>;
  clock: () => Date;
  kinds: StageKindRegistry;
}

export interface SiteRequest {
  root: string;
  /** Most runs per pipeline shown (and given a page). Default `DEFAULT_RUNS_PER_PIPELINE`. */
  runsPerPipeline?: number;
}

export interface SitePage {
  /** Relative to the site root, with `/` separators: `index.html`, `runs/<run id>.html`. */
  path: string;
  html: string;
}

export interface SiteResult {
  model: SiteModel;
  pages: SitePage[];
}

export async function buildSite(request: SiteRequest, deps: SiteDeps): Promise<SiteResult> {
  // Like status, the site shows what it can: an invalid pipeline file is left out (`weir validate` says why).
  const validation = await validatePipelines({ root: request.root }, { kinds: deps.kinds });
  const specs = new Map(validation.pipelines.map((p) => [p.spec.name, p.spec]));
  const names = [...new Set([...specs.keys(), ...(await deps.ledger.pipelines())])].sort();
  const now = deps.clock();
  const limit = request.runsPerPipeline ?? DEFAULT_RUNS_PER_PIPELINE;
  const pipelines = await Promise.all(names.map((name) => overviewOf(name, specs.get(name), now, limit, deps)));
  const model: SiteModel = { generatedAt: now.toISOString(), pipelines };
  const runPages = pipelines.flatMap((p) => p.runs).map((run) => ({ path: runPagePath(run.runId), html: renderRunPage(run, { generatedAt: model.generatedAt, artifact: artifactLinkOf(run) }) }));
  return { model, pages: [{ path: 'index.html', html: renderOverviewPage(model) }, ...runPages] };
}

async function overviewOf(name: string, spec: PipelineSpec | undefined, now: Date, limit: number, deps: SiteDeps): Promise<PipelineOverview> {
  const runs = await deps.ledger.listRuns({ pipeline: name, limit });
  // The facts `weir status` shows (last success, next tick, due intervals, lateness, pause), computed the same way.
  const status = await statusOf(name, spec, now, deps);
  const slaBreaches = summarizeSlaBreaches(runs);
  return {
    pipeline: name,
    schedule: status.schedule,
    timezone: status.timezone,
    nextTick: status.nextTick,
    lastSuccess: status.lastSuccess,
    runs,
    defined: spec !== undefined,
    ...(status.due ? { due: status.due } : {}),
    ...(status.recentLateness ? { recentLateness: status.recentLateness } : {}),
    ...(status.paused ? { paused: status.paused } : {}),
    ...(slaBreaches ? { slaBreaches } : {}),
  };
}


/** The run's report artifact, listed on its workflow run page, when the run came from GitHub Actions. */
function artifactLinkOf(run: RunRecord): RunArtifactLink | undefined {
  const url = run.provenance?.workflowRunUrl;
  return url ? { name: runArtifactName(run), url: `${url}#artifacts` } : undefined;
}
