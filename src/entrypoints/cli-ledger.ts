/** `weir history` and `weir status`: read-only views of the ledger. Parse, call the use case, render. */
import { renderHistoryTable, renderStatusTable } from '../report/ledger-views.ts';
import { renderRunDetail } from '../report/terminal.ts';
import { readHistory } from '../use-cases/history.ts';
import { readStatus } from '../use-cases/status.ts';
import type { CliValues } from './cli.ts';
import { createCliDeps } from './cli-deps.ts';
import { EXIT, type Io, UsageError } from './cli-io.ts';
import { rootOf } from './cli-pipelines.ts';

/** History and status print a table on a terminal and JSON when piped, unless told otherwise. */
function wantsJson(values: CliValues, io: Io): boolean {
  return Boolean(values.json) || (!io.isTty && !values.table);
}

function parseLimit(text: string | undefined): number {
  const limit = text === undefined ? 20 : Number(text);
  if (!(Number.isInteger(limit) && limit > 0)) throw new UsageError(`--limit must be a positive whole number, got '${text}'`);
  return limit;
}

function assertAtMostOne(command: string, args: string[], what: string): void {
  if (args.length > 1) throw new UsageError(`'weir ${command}' takes one ${what}, got ${args.length} (${args.join(', ')})`);
}

export async function historyCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  assertAtMostOne('history', args, 'pipeline or run id');
  const limit = parseLimit(values.limit);
  const result = await readHistory({ target: args[0], limit }, createCliDeps(rootOf(values, io), { ledger: values.ledger }));
  switch (result.kind) {
    case 'not_found':
      throw new UsageError(`no pipeline or run '${result.target}' in the ledger; pipelines with runs: ${result.pipelines.join(', ') || 'none yet'}`);
    case 'ambiguous':
      throw new UsageError(`run id prefix '${result.target}' matches ${result.matches.length} runs; give more of the id:\n${result.matches.join('\n')}`);
    case 'run':
      io.out(wantsJson(values, io) ? JSON.stringify(result.run, null, 2) : renderRunDetail(result.run, result.attempts)); // attempts: retry (backfill branch)
      return EXIT.ok;
    case 'runs':
      io.out(wantsJson(values, io) ? JSON.stringify(result.runs, null, 2) : renderHistoryTable(result.runs, args[0]));
      return EXIT.ok;
  }
}

export async function statusCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  assertAtMostOne('status', args, 'pipeline');
  const root = rootOf(values, io);
  const result = await readStatus({ root, pipeline: args[0] }, createCliDeps(root, { ledger: values.ledger }));
  if (!result.ok) throw new UsageError(result.message);
  io.out(wantsJson(values, io) ? JSON.stringify(result.pipelines, null, 2) : renderStatusTable(result.pipelines));
  return EXIT.ok;
}
