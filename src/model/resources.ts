/**
 * Hardware a stage may `require` (today: a GPU), as data: what a machine reports of it, the facts a
 * stage records when it runs on it, and the message a stage gets when the machine has none. Pure:
 * detection itself is an adapter (src/adapters/hardware.ts).
 */

/** The resources a stage may list in `requires`. */
export type ResourceName = 'gpu';

/** One GPU as `nvidia-smi` lists it. */
export interface GpuDevice {
  index: number;
  name: string;
  /** Total memory in MiB; absent when the driver did not say. */
  memoryMiB?: number;
}

/**
 * How the answer was found: `nvidia-smi` (devices, driver and CUDA version listed), `device-node`
 * (the driver's /dev/nvidia* files; no details), `override` (WEIR_GPU, or CUDA_VISIBLE_DEVICES hiding every GPU).
 */
export type GpuSource = 'nvidia-smi' | 'device-node' | 'override';

/** What this machine offers of GPUs. */
export interface GpuReport {
  available: boolean;
  source: GpuSource;
  /** Listed by nvidia-smi; empty for the other sources. */
  devices: GpuDevice[];
  driver?: string;
  cuda?: string;
  /** Why the answer is what it is when it is not plain (nvidia-smi timed out, printed garbage, an override). */
  reason?: string;
}

/** What a machine reports of a resource: one report kind per resource name. */
export type ResourceReport = GpuReport;

/** The GPU facts kept on a stage that ran on one (the report without its verdict). */
export type GpuFacts = Pick<GpuReport, 'source' | 'devices' | 'driver' | 'cuda'>;

/** Resources a stage ran with, recorded on `stage.started` and on its StageRecord. */
export interface StageResources {
  gpu?: GpuFacts;
}

/** The facts of a report worth keeping on a stage: no `available` (it was), no reason. */
export function gpuFacts(report: GpuReport): GpuFacts {
  const facts: GpuFacts = { source: report.source, devices: report.devices.map((d) => ({ ...d })) };
  if (report.driver !== undefined) facts.driver = report.driver;
  if (report.cuda !== undefined) facts.cuda = report.cuda;
  return facts;
}

/** One line: `2 × NVIDIA H100 80GB HBM3 (81559 MiB) · driver 550.54.15 · CUDA 12.4 (nvidia-smi)`. */
export function describeGpu(facts: GpuFacts): string {
  const groups = new Map<string, number>();
  for (const d of facts.devices) {
    const key = `${d.name}${d.memoryMiB === undefined ? '' : ` (${d.memoryMiB} MiB)`}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  const devices = [...groups].map(([key, n]) => `${n} × ${key}`).join(', ') || 'a GPU';
  const extra = [facts.driver && `driver ${facts.driver}`, facts.cuda && `CUDA ${facts.cuda}`].filter(Boolean);
  return [devices, ...extra].join(' · ') + ` (${facts.source})`;
}

/** How to get a GPU stage onto a GPU: the labels it asks for, or the `runs-on` to add. */
function whereToRun(runnerLabels: readonly string[]): string {
  return runnerLabels.length > 0
    ? `run it on a runner with the labels [${runnerLabels.join(', ')}] (its runs-on)`
    : "add 'runs-on: [self-hosted, gpu]' to the stage so it runs on a GPU runner";
}

/**
 * The ResourceUnavailable message of a stage whose machine lacks `resource`: what is missing and
 * why the probe says so, where the stage should run, and the WEIR_GPU=1 override for tests and demos.
 */
export function resourceUnavailableMessage(stage: string, resource: ResourceName, runnerLabels: readonly string[], report: ResourceReport | undefined): string {
  const why = report?.reason ? ` (${report.reason})` : '';
  return (
    `stage '${stage}' requires a ${resource} and this machine has none${why}; ${whereToRun(runnerLabels)} — not retried. ` +
    'To run it here anyway (tests, demos without a GPU), set WEIR_GPU=1'
  );
}
