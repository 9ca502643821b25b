/** The site's index page: one card per pipeline with its recent runs, success rate and trend. */
import { badge, escapeHtml, formatDuration, formatInstant, type Html, renderPage, runPagePath, statusColour } from './html.ts';
import { type PipelineOverview, type SiteModel, successRate } from './site-model.ts';
import { renderDurationTrend } from './svg-charts.ts';

export function renderOverviewPage(model: SiteModel): Html {
  const cards = model.pipelines.map(renderPipelineCard).join('\n');
  const body = `<h1>Pipelines</h1>
<p>${model.pipelines.length} pipeline${model.pipelines.length === 1 ? '' : 's'}; times in UTC.</p>
${model.pipelines.length ? cards : '<p>No pipelines and no runs yet: run one with <code>weir run &lt;pipeline&gt;</code>.</p>'}`;
  return renderPage({ title: 'weir status', base: '', body, generatedAt: model.generatedAt });
}

function renderPipelineCard(overview: PipelineOverview): Html {
  const { pipeline, runs } = overview;
  const id = `pipeline-${slug(pipeline)}`;
  const rate = successRate(runs);
  const last = runs[0];
  const finished = runs.filter((run) => run.durationMs !== undefined).reverse();
  const trend = renderDurationTrend(
    finished.map((run) => ({ runId: run.runId, durationMs: run.durationMs!, status: run.status })),
    `Duration of the last ${finished.length} runs of ${pipeline}`,
  );
  return `<section class="card" aria-labelledby="${id}">
<h2 id="${id}">${escapeHtml(pipeline)}${last ? ` ${badge(last.status)}` : ''}</h2>
${overview.defined ? '' : '<p>Not in pipelines/ any more: only the ledger knows it.</p>'}
<dl class="facts">
<div><dt>Success rate</dt><dd data-key="success-rate">${rate ? `${rate.percent}% (${rate.succeeded} of ${rate.finished})` : '—'}</dd></div>
<div><dt>Last run</dt><dd data-key="last-run">${last ? `<a href="${runPagePath(last.runId)}">${escapeHtml(formatInstant(last.startedAt))}</a>` : '—'}</dd></div>
<div><dt>Last success</dt><dd data-key="last-success">${escapeHtml(formatInstant(overview.lastSuccess))}</dd></div>
<div><dt>Schedule</dt><dd>${overview.schedule ? `<code>${escapeHtml(overview.schedule)}</code> ${escapeHtml(overview.timezone ?? 'UTC')}` : 'by hand'}</dd></div>
<div><dt>Next tick</dt><dd data-key="next-tick">${escapeHtml(formatInstant(overview.nextTick))}</dd></div>
<div><dt>Last duration</dt><dd>${escapeHtml(formatDuration(last?.durationMs))}</dd></div>
${renderControlFacts(overview)}
</dl>
${runs.length ? renderRunStrip(pipeline, runs) : '<p>No runs yet.</p>'}
${trend ?? ''}
</section>`;
}

// sla branch ↓ the facts `weir status` shows: due and late intervals, pause, SLA breaches.
function renderControlFacts(overview: PipelineOverview): Html {
  const facts: Html[] = [];
  if (overview.due) {
    const { count, oldest } = overview.due;
    const pastSla = overview.due.pastSla ? `; ${overview.due.pastSla} past the SLA` : '';
    const due = count === 0 ? 'none' : `${count} interval${count === 1 ? '' : 's'}${oldest ? `, oldest from ${formatInstant(oldest)}` : ''}${pastSla}`;
    facts.push(`<div><dt>Due now</dt><dd data-key="due" data-count="${count}"${overview.due.pastSla === undefined ? '' : ` data-past-sla="${overview.due.pastSla}"`}>${escapeHtml(due)}</dd></div>`);
  }
  const late = overview.recentLateness?.[0];
  if (late !== undefined) facts.push(`<div><dt>Last scheduled start</dt><dd data-key="late" data-ms="${late}">${escapeHtml(`${formatDuration(late)} after its tick`)}</dd></div>`);
  const paused = overview.paused;
  facts.push(`<div><dt>Paused</dt><dd data-key="paused">${paused ? escapeHtml(`yes, since ${formatInstant(paused.at)} by ${paused.by}${paused.reason ? `: ${paused.reason}` : ''}`) : 'no'}</dd></div>`);
  const sla = overview.slaBreaches;
  if (sla) {
    const { latest } = sla;
    const what = latest.scope === 'stage' ? `stage ${latest.stage}` : latest.scope === 'start' ? 'start' : 'run';
    const text = `${sla.runs} of the last ${sla.of} run${sla.of === 1 ? '' : 's'}; latest: ${what}, ${formatDuration(Math.max(0, latest.elapsedMs - latest.slaMs))} over ${formatDuration(latest.slaMs)}`;
    facts.push(`<div><dt>SLA breaches</dt><dd data-key="sla-breaches" data-runs="${sla.runs}">${escapeHtml(text)}</dd></div>`);
  }
  return facts.join('\n');
}

/** Oldest to newest, left to right; each cell is a link whose label says the run's status and time (and an SLA breach). */
function renderRunStrip(pipeline: string, runs: PipelineOverview['runs']): Html {
  const cells = [...runs].reverse().map((run) => {
    const breached = (run.slaBreaches?.length ?? 0) > 0;
    const label = `${run.status} run at ${formatInstant(run.startedAt)} (${formatDuration(run.durationMs)})${breached ? ', SLA breached' : ''}`;
    return `<li><a href="${runPagePath(run.runId)}" style="background:${statusColour(run.status)}" aria-label="${escapeHtml(label)}" title="${escapeHtml(label)}" data-status="${escapeHtml(run.status)}"${breached ? ' data-sla="breached" class="breached"' : ''}></a></li>`;
  });
  return `<h3>${runs.length === 1 ? 'Last run' : `Last ${runs.length} runs, oldest first`}</h3>
<ul class="strip" aria-label="Last ${runs.length} runs of ${escapeHtml(pipeline)}">${cells.join('')}</ul>`;
}

function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '-');
}
