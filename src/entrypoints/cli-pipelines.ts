/** Shared by validate, plan and run: naming pipelines on the command line and printing diagnostics. */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { findPipeline, PIPELINES_DIR } from '../definitions/discover.ts';
import { didYouMean } from '../model/did-you-mean.ts';
import type { Diagnostic } from '../model/diagnostic.ts';
import { formatDiagnostic } from '../model/diagnostic.ts';
import { COLOR, PLAIN } from '../report/terminal.ts';
import type { CliValues } from './cli.ts';
import { type Io, UsageError } from './cli-io.ts';

/** The project root: main resolves `--root` (or the folder found by walking up) before any command runs. */
export function rootOf(values: CliValues, io: Io): string {
  return resolve(io.cwd, values.root ?? '.');
}

/** The offending line with a caret under the column, like a compiler. */
function codeFrame(root: string, d: Diagnostic): string | undefined {
  try {
    const line = readFileSync(resolve(root, d.file), 'utf8').split(/\r?\n/)[d.line - 1];
    if (line === undefined) return undefined;
    const width = Math.max(1, (d.endLine === d.line && d.endColumn ? d.endColumn : d.column + 1) - d.column);
    return `  ${String(d.line).padStart(4)} │ ${line}\n       │ ${' '.repeat(Math.max(0, d.column - 1))}${'^'.repeat(width)}`;
  } catch {
    return undefined;
  }
}

export function printDiagnostics(diagnostics: readonly Diagnostic[], root: string, io: Io): void {
  const style = io.color ? COLOR : PLAIN;
  for (const d of diagnostics) {
    const text = formatDiagnostic(d);
    io.err(d.severity === 'error' ? style.red(text) : style.yellow(text));
    const frame = codeFrame(root, d);
    if (frame) io.err(style.dim(frame));
  }
}

export function summarize(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  return `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
}

/** A path typed by the user: relative to the current folder, as a shell user expects. */
export function isExistingPath(arg: string, io: Io): boolean {
  return statSync(resolve(io.cwd, arg), { throwIfNoEntry: false }) !== undefined;
}

/** Pipeline names or paths → files (absolute, or relative to the root); `--all` → pipelines/. */
export async function resolvePipelineArgs(args: string[], values: CliValues, io: Io, acceptsAll = true): Promise<string[]> {
  if (values.all) {
    if (args.length) throw new UsageError(`--all runs every pipeline: drop --all or the names (${args.join(', ')})`);
    return [PIPELINES_DIR];
  }
  if (args.length === 0) throw new UsageError(`name a pipeline${acceptsAll ? ' (or pass --all)' : ''}; 'weir status' lists them`);
  const root = rootOf(values, io);
  return Promise.all(
    args.map(async (arg) => {
      if (/\.ya?ml$/.test(arg) && isExistingPath(arg, io)) return resolve(io.cwd, arg);
      const found = await findPipeline(arg, root);
      if (found.found) return found.file;
      const known = found.knownNames.length ? `; pipelines: ${found.knownNames.join(', ')}` : `; no pipelines in ${resolve(root, PIPELINES_DIR)}`;
      throw new UsageError(`no pipeline '${arg}'${didYouMean(arg, found.knownNames)}${known}`);
    }),
  );
}
