/** What hardware this machine has, for stages that declare `requires: [gpu]`. */
import { existsSync } from 'node:fs';

let gpu: boolean | undefined;

/**
 * True when an NVIDIA GPU is visible. `WEIR_GPU=1`/`0` overrides the probe (CI runners, tests);
 * otherwise the driver's device node is looked for, which costs no process spawn.
 */
export function hasGpu(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  if (env.WEIR_GPU === '1' || env.WEIR_GPU === 'true') return true;
  if (env.WEIR_GPU === '0' || env.WEIR_GPU === 'false') return false;
  if (env.CUDA_VISIBLE_DEVICES === '' || env.CUDA_VISIBLE_DEVICES === '-1') return false;
  gpu ??= existsSync('/dev/nvidiactl') || existsSync('/dev/nvidia0');
  return gpu;
}
