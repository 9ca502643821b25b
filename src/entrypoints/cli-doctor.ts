/**
 * `weir doctor`: the composition root of the doctor use case (the machine's probes) and its
 * rendering as ✓/✗ lines or JSON. Exit 0 when everything needed is here, 1 when something a
 * pipeline (or weir itself) needs is missing, 2 on bad usage. Works outside a project too.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createGpuProbe } from '../adapters/hardware.ts';
import { probeDuckDb, probeGit } from '../adapters/machine-probes.ts';
import { DEFAULT_LEDGER_BRANCH } from '../ledger/git-branch-layout.ts';
import { COLOR, PLAIN } from '../report/terminal.ts';
import { defaultStageKinds } from '../stages/registry.ts';
import { diagnose, type CheckStatus, type DoctorCheck, type DoctorDeps, type DoctorReport } from '../use-cases/doctor.ts';
import { validatePipelines } from '../use-cases/validate.ts';
import type { CliValues } from './cli.ts';
import { EXIT, type Io, UsageError } from './cli-io.ts';

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function doctorDeps(io: Io): DoctorDeps {
  return {
    nodeVersion: process.versions.node,
    duckdb: probeDuckDb,
    gpu: createGpuProbe({ env: io.env }),
    git: probeGit,
    env: io.env,
    exists: existsSync,
    isExecutable,
    resolve,
    loadPipelines: async (root) => {
      const result = await validatePipelines({ root }, { kinds: defaultStageKinds() });
      return { files: result.files, pipelines: result.pipelines, diagnostics: result.diagnostics };
    },
  };
}

/** `values.root` is the project root, or undefined outside a project (cli.ts finds it without failing). */
export async function doctorCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  if (args.length) throw new UsageError(`'weir doctor' takes no arguments, got '${args.join(' ')}'; it checks this machine and every pipeline of the project`);
  const report = await diagnose({ root: values.root, cwd: io.cwd, ledgerBranch: DEFAULT_LEDGER_BRANCH }, doctorDeps(io));
  io.out(values.json ? JSON.stringify(report, null, 2) : renderDoctor(report, io.color));
  return report.ok ? EXIT.ok : EXIT.failed;
}

const MARK: Record<CheckStatus, string> = { ok: '✓', fail: '✗', warn: '!', info: '·' };

/** The report as sections of ✓/✗ lines, each failure or warning followed by what to do. */
export function renderDoctor(report: DoctorReport, color = false): string {
  const style = color ? COLOR : PLAIN;
  const paint: Record<CheckStatus, (text: string) => string> = { ok: style.green, fail: style.red, warn: style.yellow, info: style.dim };
  const lines = (checks: readonly DoctorCheck[]) =>
    checks.flatMap((c) => [`  ${paint[c.status](MARK[c.status])} ${c.text}`, ...(c.fix ? [`      → ${c.fix}`] : [])]);
  const sections = [['This machine', ...lines(report.machine)].join('\n')];
  if (!report.project) sections.push('No weir project here (no weir.yml or pipelines/ in this folder or above): only the machine was checked.');
  else {
    sections.push([`Project ${report.project.root}`, ...lines(report.project.checks)].join('\n'));
    if (report.project.files.length === 0) sections.push('No pipeline files in pipelines/ yet.');
    for (const p of report.pipelines) sections.push([`Pipeline ${p.pipeline} (${p.file})`, ...lines(p.checks)].join('\n'));
  }
  sections.push(report.ok ? 'Everything needed is here.' : `${MARK.fail} Something needed is missing (exit 1): see the lines marked ${MARK.fail}.`);
  return sections.join('\n\n');
}
