/** A page per run: its facts, a stage timeline, each stage's attempts, checks and dead letters. */
import type { RunRecord, StageRecord } from '../ledger/run-record.ts';
import { badge, escapeHtml, formatDuration, formatInstant, type Html, renderPage } from './html.ts';
import { renderStageTimeline, type TimelineBar } from './svg-charts.ts';

export interface RunArtifactLink {
  /** The artifact's name (`weir-<pipeline>-<run id>`). */
  name: string;
  /** The workflow run page, where GitHub lists the run's artifacts. */
  url: string;
}

export interface RunPageOptions {
  generatedAt: string;
  /** Present when the run came from GitHub Actions (its record has provenance with a run URL). */
  artifact?: RunArtifactLink;
}

export function renderRunPage(record: RunRecord, options: RunPageOptions): Html {
  const stages = Object.entries(record.stages);
  const timeline = renderStageTimeline(timelineBars(record), record.durationMs ?? 0);
  const body = `<p><a href="../index.html#pipeline-${escapeHtml(record.pipeline.replace(/[^A-Za-z0-9_-]/g, '-'))}">← ${escapeHtml(record.pipeline)}</a></p>
<h1>Run <code>${escapeHtml(record.runId)}</code> ${badge(record.status)}</h1>
${renderRunFacts(record, options.artifact)}
${record.error ? `<h2>Error</h2><pre>${escapeHtml(record.error.message)}</pre>` : ''}
${renderSlaBreaches(record)}
<h2>Stage timeline</h2>
${timeline ?? '<p>No stage ran.</p>'}
<h2>Stages</h2>
${renderStageTable(stages)}
${stages.map(([name, stage]) => renderStageDetails(name, stage)).join('\n')}
${renderNotifications(record)}`;
  return renderPage({ title: `${record.pipeline} run ${record.runId} — weir status`, base: '../', body, generatedAt: options.generatedAt });
}

function renderRunFacts(record: RunRecord, artifact: RunArtifactLink | undefined): Html {
  const params = Object.entries(record.params);
  const facts = [
    ['Pipeline', escapeHtml(record.pipeline)],
    ['Status', `<span data-key="status">${escapeHtml(record.status)}</span>`],
    ['Started', escapeHtml(formatInstant(record.startedAt))],
    ['Duration', `<span data-key="duration">${escapeHtml(formatDuration(record.durationMs))}</span>`],
    ['Trigger', escapeHtml(record.trigger)],
    ['Interval', `${escapeHtml(formatInstant(record.interval.start))} → ${escapeHtml(formatInstant(record.interval.end))}`],
    ...(params.length ? [['Params', params.map(([k, v]) => `<code>${escapeHtml(`${k}=${JSON.stringify(v)}`)}</code>`).join(' ')]] : []),
    ...(record.provenance?.commit ? [['Commit', `<code>${escapeHtml(record.provenance.commit.slice(0, 12))}</code>`]] : []),
    ...(artifact ? [['Report', `<a href="${escapeHtml(artifact.url)}" data-key="artifact">artifact ${escapeHtml(artifact.name)} on GitHub</a>`]] : []),
  ];
  return `<dl class="facts">${facts.map(([term, value]) => `<div><dt>${term}</dt><dd>${value}</dd></div>`).join('')}</dl>`;
}

/** Bars for the stages that started, in their start order, relative to the run's start. */
export function timelineBars(record: RunRecord): TimelineBar[] {
  const origin = Date.parse(record.startedAt);
  const end = record.finishedAt ? Date.parse(record.finishedAt) : undefined;
  return Object.entries(record.stages)
    .filter(([, stage]) => stage.startedAt !== undefined)
    .map(([name, stage]) => {
      const startMs = Date.parse(stage.startedAt!) - origin;
      const finished = stage.finishedAt ? Date.parse(stage.finishedAt) : (end ?? Date.parse(stage.startedAt!));
      return { stage: name, status: stage.status, startMs, endMs: Math.max(finished - origin, startMs) };
    })
    .sort((a, b) => a.startMs - b.startMs);
}

function renderStageTable(stages: [string, StageRecord][]): Html {
  if (stages.length === 0) return '<p>No stages.</p>';
  const rows = stages.map(([name, stage]) => {
    const checks = stage.checks ?? [];
    const failedChecks = checks.filter((check) => !check.passed).length;
    return `<tr data-stage="${escapeHtml(name)}"><th scope="row"><a href="#stage-${escapeHtml(anchor(name))}">${escapeHtml(name)}</a></th><td>${escapeHtml(stage.status)}</td><td>${escapeHtml(formatDuration(stage.durationMs))}</td><td data-key="attempts">${stage.attempts.length}</td><td>${stage.rows ?? '—'}</td><td>${checks.length ? `${checks.length - failedChecks}/${checks.length} passed` : '—'}</td><td>${stage.deadLetters ? stage.deadLetters.count : '—'}</td></tr>`;
  });
  return `<div class="table-wrap" role="region" aria-label="Stages" tabindex="0"><table>
<caption class="sr-only">Stages of the run</caption>
<thead><tr><th scope="col">Stage</th><th scope="col">Status</th><th scope="col">Duration</th><th scope="col">Attempts</th><th scope="col">Rows</th><th scope="col">Checks</th><th scope="col">Dead letters</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div>`;
}

function renderStageDetails(name: string, stage: StageRecord): Html {
  const parts = [`<h3 id="stage-${escapeHtml(anchor(name))}">${escapeHtml(name)}: ${escapeHtml(stage.status)}</h3>`];
  if (stage.skipReason) parts.push(`<p>Skipped: ${escapeHtml(stage.skipReason)}${stage.skipDetail ? ` (${escapeHtml(stage.skipDetail)})` : ''}</p>`);
  if (stage.waitDetail) parts.push(`<p>Waiting: ${escapeHtml(stage.waitDetail)}</p>`); // gates
  if (stage.reusedFrom) parts.push(`<p>Output reused from run <a href="${escapeHtml(encodeURIComponent(stage.reusedFrom))}.html">${escapeHtml(stage.reusedFrom)}</a>.</p>`);
  if (stage.attempts.length) {
    const items = stage.attempts.map((a) => `<li>Attempt ${a.attempt}: ${escapeHtml(formatInstant(a.startedAt))}${a.finishedAt ? ` to ${escapeHtml(formatInstant(a.finishedAt))}` : ''}${a.error ? ` — <span>${escapeHtml(a.error.message)}</span>` : ''}${a.delayMs ? ` (retried after ${escapeHtml(formatDuration(a.delayMs))})` : ''}</li>`);
    parts.push(`<ol>${items.join('')}</ol>`);
  }
  if (stage.error) parts.push(`<pre>${escapeHtml(stage.error.message)}</pre>`);
  if (stage.checks?.length) {
    const rows = stage.checks.map((c) => `<tr><td>${escapeHtml(c.name)}</td><td>${c.passed ? 'passed' : c.severity === 'warn' ? 'warning' : 'failed'}</td><td>${c.failing}</td><td>${escapeHtml(c.message)}</td></tr>`);
    parts.push(`<div class="table-wrap" role="region" aria-label="Checks of ${escapeHtml(name)}" tabindex="0"><table><caption class="sr-only">Checks of ${escapeHtml(name)}</caption><thead><tr><th scope="col">Check</th><th scope="col">Result</th><th scope="col">Failing rows</th><th scope="col">Message</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`);
  }
  if (stage.deadLetters) {
    const where = stage.deadLetters.table ?? stage.deadLetters.file;
    parts.push(`<p data-key="dead-letters">Dead letters: ${stage.deadLetters.count} of ${stage.deadLetters.total} rows${where ? ` (in <code>${escapeHtml(where)}</code>)` : ''}.</p>`);
  }
  return parts.join('\n');
}

function renderNotifications(record: RunRecord): Html {
  if (!record.notifications?.length) return '';
  const items = record.notifications.map((n) => `<li>${escapeHtml(n.event)}${n.stage === undefined ? '' : ` (stage ${escapeHtml(n.stage)})`} to ${escapeHtml(n.channel)}: ${escapeHtml(n.status)}${n.error ? ` — ${escapeHtml(n.error.message)}` : n.reason ? ` — ${escapeHtml(n.reason)}` : ''}</li>`);
  return `<h2>Notifications</h2><ul>${items.join('')}</ul>`;
}

// sla branch ↓
function renderSlaBreaches(record: RunRecord): Html {
  if (!record.slaBreaches?.length) return '';
  const items = record.slaBreaches.map((b) => {
    const what = b.scope === 'stage' ? `Stage ${b.stage} ran` : b.scope === 'start' ? 'The run started' : 'The run took';
    const origin = b.scope === 'start' ? ' after its scheduled tick' : '';
    return `<li data-key="sla-breach" data-scope="${escapeHtml(b.scope)}">${escapeHtml(`${what} ${formatDuration(b.elapsedMs)}${origin}: ${formatDuration(Math.max(0, b.elapsedMs - b.slaMs))} over its SLA of ${formatDuration(b.slaMs)} (detected ${formatInstant(b.at)})`)}</li>`;
  });
  return `<h2>SLA breaches</h2><ul>${items.join('')}</ul>`;
}

function anchor(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '-');
}
