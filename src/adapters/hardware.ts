/**
 * What GPUs this machine has, for stages that declare `requires: [gpu]` and for `weir doctor`.
 * `WEIR_GPU=1`/`0` decides outright (the "lift the requirement" switch of tests and demos); else
 * `nvidia-smi`, when it is on PATH, lists the devices, driver and CUDA version; else (or when
 * nvidia-smi hangs, fails or prints something unreadable) the driver's device nodes are looked for.
 * Nothing is spawned until a probe is asked, and a probe asks once (createGpuProbe).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { GpuDevice, GpuReport } from '../model/resources.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** A hung nvidia-smi (a wedged driver does that) is killed after this long and the device nodes decide. */
export const NVIDIA_SMI_TIMEOUT_MS = 5000;
/** Files the NVIDIA driver creates when it is loaded. */
export const NVIDIA_DEVICE_NODES: readonly string[] = ['/dev/nvidiactl', '/dev/nvidia0'];
/** More output than nvidia-smi ever prints: the rest is dropped, not buffered. */
const MAX_OUTPUT_BYTES = 1 << 20;

export const GPU_QUERY_ARGS: readonly string[] = ['--query-gpu=index,name,memory.total,driver_version', '--format=csv,noheader,nounits'];

export interface GpuProbeOptions {
  env?: Env;
  /** Default NVIDIA_SMI_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Default NVIDIA_DEVICE_NODES (tests point them at temp files). */
  deviceNodes?: readonly string[];
}

/** A probe that detects on its first call and answers every later call with the same report. */
export function createGpuProbe(options: GpuProbeOptions = {}): () => Promise<GpuReport> {
  let report: Promise<GpuReport> | undefined;
  return () => (report ??= detectGpu(options));
}

/** Detects GPUs now. Never throws: whatever goes wrong becomes a report with a reason. */
export async function detectGpu(options: GpuProbeOptions = {}): Promise<GpuReport> {
  const env = options.env ?? process.env;
  const override = overrideOf(env);
  if (override) return override;
  const smi = findOnPath('nvidia-smi', env);
  if (smi === undefined) return probeDeviceNodes(options.deviceNodes, 'nvidia-smi is not on PATH');
  const [query, header] = await Promise.all([runBounded(smi, GPU_QUERY_ARGS, env, options.timeoutMs), runBounded(smi, [], env, options.timeoutMs)]);
  const listed = readQuery(query);
  if ('error' in listed) return probeDeviceNodes(options.deviceNodes, listed.error);
  const cuda = header.kind === 'exit' && header.code === 0 ? parseCudaVersion(header.stdout) : undefined;
  return visibleOnly({ available: true, source: 'nvidia-smi', devices: listed.devices, driver: listed.driver, ...(cuda ? { cuda } : {}) }, env);
}

function overrideOf(env: Env): GpuReport | undefined {
  const flag = env.WEIR_GPU;
  if (flag === '1' || flag === 'true') return { available: true, source: 'override', devices: [], reason: `WEIR_GPU=${flag}` };
  if (flag === '0' || flag === 'false') return { available: false, source: 'override', devices: [], reason: `WEIR_GPU=${flag}` };
  const visible = env.CUDA_VISIBLE_DEVICES;
  if (visible === '' || visible === '-1') return { available: false, source: 'override', devices: [], reason: `CUDA_VISIBLE_DEVICES='${visible}' hides every GPU` };
  return undefined;
}

/** CUDA_VISIBLE_DEVICES as a list of indices narrows the devices (UUID lists are left to CUDA). */
function visibleOnly(report: GpuReport, env: Env): GpuReport {
  const visible = env.CUDA_VISIBLE_DEVICES?.split(',').map((s) => s.trim());
  if (!visible || !visible.every((s) => /^\d+$/.test(s))) return report;
  const devices = report.devices.filter((d) => visible.includes(String(d.index)));
  if (devices.length > 0) return { ...report, devices };
  return { ...report, available: false, devices, reason: `CUDA_VISIBLE_DEVICES=${env.CUDA_VISIBLE_DEVICES} names none of the ${report.devices.length} GPUs nvidia-smi lists` };
}

function probeDeviceNodes(nodes: readonly string[] = NVIDIA_DEVICE_NODES, why: string): GpuReport {
  const found = nodes.find((node) => existsSync(node));
  if (found) return { available: true, source: 'device-node', devices: [], reason: `${why}; ${found} exists` };
  return { available: false, source: 'device-node', devices: [], reason: `${why}, and no ${nodes.join(' or ')}` };
}

/** The executable `name` in one of PATH's folders, or undefined. */
export function findOnPath(name: string, env: Env): string | undefined {
  // Windows installs nvidia-smi.exe; its PATH is `Path` when read from a copied environment.
  const names = process.platform === 'win32' ? [`${name}.exe`, name] : [name];
  for (const dir of (env.PATH ?? env.Path ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const file of names.map((n) => join(dir, n))) {
      try {
        if (!statSync(file).isFile()) continue;
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        // not there, or not executable: keep looking
      }
    }
  }
  return undefined;
}

type Bounded = { kind: 'exit'; code: number | null; stdout: string; stderr: string } | { kind: 'timeout'; ms: number } | { kind: 'error'; message: string };

/**
 * Runs a probe command in its own process group and settles on its exit, or kills the whole group
 * after `timeoutMs` (a shell script's `sleep` child would otherwise hold the pipes open).
 */
function runBounded(file: string, args: readonly string[], env: Env, timeoutMs = NVIDIA_SMI_TIMEOUT_MS): Promise<Bounded> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env: env as NodeJS.ProcessEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const keep = (into: Buffer[]) => (chunk: Buffer) => {
      if (size >= MAX_OUTPUT_BYTES) return;
      size += chunk.length;
      into.push(chunk);
    };
    child.stdout!.on('data', keep(out));
    child.stderr!.on('data', keep(err));
    const settle = (result: Bounded) => {
      clearTimeout(timer);
      resolve(result);
    };
    const timer = setTimeout(() => {
      killGroup(child.pid);
      child.stdout!.destroy();
      child.stderr!.destroy();
      settle({ kind: 'timeout', ms: timeoutMs });
    }, timeoutMs);
    child.on('error', (error) => settle({ kind: 'error', message: error.message }));
    child.on('close', (code) => settle({ kind: 'exit', code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function readQuery(result: Bounded): { devices: GpuDevice[]; driver?: string } | { error: string } {
  if (result.kind === 'timeout') return { error: `nvidia-smi did not answer within ${result.ms} ms and was killed` };
  if (result.kind === 'error') return { error: `nvidia-smi could not start: ${result.message}` };
  if (result.code !== 0) return { error: `nvidia-smi exited with code ${result.code}${firstLine(result.stderr || result.stdout)}` };
  const parsed = parseGpuQuery(result.stdout);
  return 'error' in parsed ? { error: `nvidia-smi ${parsed.error}` } : parsed;
}

function firstLine(text: string): string {
  const line = text.trim().split(/\r?\n/)[0]?.trim();
  return line ? `: ${line.slice(0, 200)}` : '';
}

/**
 * Parses `nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader,nounits`:
 * one `0, NVIDIA H100 80GB HBM3, 81559, 550.54.15` line per GPU. A name may hold commas: the
 * index is the first field, memory and driver the last two. Anything else is an error, never a guess.
 */
export function parseGpuQuery(stdout: string): { devices: GpuDevice[]; driver?: string } | { error: string } {
  const lines = stdout.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (lines.length === 0) return { error: 'listed no GPU' };
  const devices: GpuDevice[] = [];
  let driver: string | undefined;
  for (const line of lines) {
    const fields = line.split(',').map((f) => f.trim());
    const index = Number(fields[0]);
    const memory = fields[fields.length - 2];
    const name = fields.slice(1, -2).join(', ');
    if (fields.length < 4 || !/^\d+$/.test(fields[0]) || !name || !/^(\d+(\.\d+)?|\[N\/A\])$/.test(memory ?? '')) {
      return { error: `printed a line weir cannot read: '${line.slice(0, 120)}'` };
    }
    devices.push({ index, name, ...(/^\d/.test(memory) ? { memoryMiB: Math.round(Number(memory)) } : {}) });
    const version = fields[fields.length - 1];
    if (/^\d[\w.]*$/.test(version)) driver ??= version;
  }
  return { devices, ...(driver ? { driver } : {}) };
}

/** The `CUDA Version: 12.4` of nvidia-smi's banner, or undefined. */
export function parseCudaVersion(banner: string): string | undefined {
  return /CUDA Version\s*:\s*(\d+(?:\.\d+)*)/.exec(banner)?.[1];
}
