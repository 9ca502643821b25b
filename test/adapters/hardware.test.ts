import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { createGpuProbe, detectGpu, GPU_QUERY_ARGS, parseCudaVersion, parseGpuQuery } from '../../src/adapters/hardware.ts';
import { describeGpu, gpuFacts } from '../../src/model/resources.ts';
import { fakeNvidiaSmi, isGone } from './fake-nvidia-smi.ts';

/** Device nodes that do not exist (this machine's real /dev must not decide a test). */
const NO_NODES = ['/nonexistent/nvidiactl', '/nonexistent/nvidia0'];

function existingNode(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-dev-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'nvidia0'), '');
  return join(dir, 'nvidia0');
}

describe('GPU detection with nvidia-smi on PATH', () => {
  it('lists both GPUs of a two-GPU machine with their memory, the driver and the CUDA version', async () => {
    const smi = fakeNvidiaSmi({ kind: 'gpus' });
    const report = await detectGpu({ env: { PATH: smi.path }, deviceNodes: NO_NODES });
    expect(report).toEqual({
      available: true,
      source: 'nvidia-smi',
      devices: [
        { index: 0, name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559 },
        { index: 1, name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559 },
      ],
      driver: '550.54.15',
      cuda: '12.4',
    });
    expect(smi.calls().sort()).toEqual(['', GPU_QUERY_ARGS.join(' ')].sort());
    expect(describeGpu(gpuFacts(report))).toBe('2 × NVIDIA H100 80GB HBM3 (81559 MiB) · driver 550.54.15 · CUDA 12.4 (nvidia-smi)');
  });

  it('keeps the devices when the banner has no CUDA version (the version is then absent, not guessed)', async () => {
    const smi = fakeNvidiaSmi({ kind: 'gpus', banner: 'something else entirely\n' });
    const report = await detectGpu({ env: { PATH: smi.path }, deviceNodes: NO_NODES });
    expect(report.available).toBe(true);
    expect(report.devices).toHaveLength(2);
    expect(report).not.toHaveProperty('cuda');
  });

  it('kills a hung nvidia-smi (and what it started) after the timeout and falls back to the device nodes', async () => {
    const smi = fakeNvidiaSmi({ kind: 'hang' });
    const withNode = await detectGpu({ env: { PATH: smi.path }, timeoutMs: 300, deviceNodes: [existingNode()] });
    expect(withNode).toMatchObject({ available: true, source: 'device-node', devices: [] });
    expect(withNode.reason).toMatch(/nvidia-smi did not answer within 300 ms and was killed; .*nvidia0 exists/);
    await vi.waitFor(() => expect(isGone(smi.sleeperPid()!)).toBe(true));
  });

  it('says why it found no GPU when nvidia-smi hangs and there is no device node', async () => {
    const smi = fakeNvidiaSmi({ kind: 'hang' });
    const report = await detectGpu({ env: { PATH: smi.path }, timeoutMs: 200, deviceNodes: NO_NODES });
    expect(report).toMatchObject({ available: false, source: 'device-node' });
    expect(report.reason).toContain('did not answer within 200 ms');
    expect(report.reason).toContain('no /nonexistent/nvidiactl or /nonexistent/nvidia0');
    await vi.waitFor(() => expect(isGone(smi.sleeperPid()!)).toBe(true));
  });

  it('reports an nvidia-smi that exits 9 as unknown with its exit code and message, never a crash', async () => {
    const smi = fakeNvidiaSmi({ kind: 'exit', code: 9, stderr: 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver' });
    const report = await detectGpu({ env: { PATH: smi.path }, deviceNodes: NO_NODES });
    expect(report).toMatchObject({ available: false, source: 'device-node' });
    expect(report.reason).toMatch(/^nvidia-smi exited with code 9: NVIDIA-SMI has failed because it could not communicate/);
  });

  it('reports garbage from nvidia-smi as unknown, quoting the line, and lets the device nodes decide', async () => {
    const smi = fakeNvidiaSmi({ kind: 'garbage' });
    const report = await detectGpu({ env: { PATH: smi.path }, deviceNodes: [existingNode()] });
    expect(report).toMatchObject({ available: true, source: 'device-node' });
    expect(report.reason).toContain("nvidia-smi printed a line weir cannot read: 'Failed to initialize NVML");
  });

  it('narrows the devices to CUDA_VISIBLE_DEVICES, and has none when it names no listed GPU', async () => {
    const smi = fakeNvidiaSmi({ kind: 'gpus' });
    const one = await detectGpu({ env: { PATH: smi.path, CUDA_VISIBLE_DEVICES: '1' }, deviceNodes: NO_NODES });
    expect(one.devices.map((d) => d.index)).toEqual([1]);
    const none = await detectGpu({ env: { PATH: smi.path, CUDA_VISIBLE_DEVICES: '7' }, deviceNodes: NO_NODES });
    expect(none).toMatchObject({ available: false, devices: [] });
    expect(none.reason).toContain('CUDA_VISIBLE_DEVICES=7 names none of the 2 GPUs');
  });
});

describe('GPU detection without nvidia-smi, and the overrides', () => {
  it('uses the device nodes when nvidia-smi is not on PATH', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'weir-path-'));
    onTestFinished(() => rmSync(empty, { recursive: true, force: true }));
    expect(await detectGpu({ env: { PATH: empty }, deviceNodes: [existingNode()] })).toMatchObject({ available: true, source: 'device-node' });
    const none = await detectGpu({ env: { PATH: empty }, deviceNodes: NO_NODES });
    expect(none).toMatchObject({ available: false, source: 'device-node', reason: 'nvidia-smi is not on PATH, and no /nonexistent/nvidiactl or /nonexistent/nvidia0' });
  });

  it('lets WEIR_GPU decide without running nvidia-smi', async () => {
    const smi = fakeNvidiaSmi({ kind: 'gpus' });
    expect(await detectGpu({ env: { PATH: smi.path, WEIR_GPU: '0' } })).toMatchObject({ available: false, source: 'override', reason: 'WEIR_GPU=0' });
    expect(await detectGpu({ env: { PATH: smi.path, WEIR_GPU: '1' }, deviceNodes: NO_NODES })).toMatchObject({ available: true, source: 'override', reason: 'WEIR_GPU=1' });
    expect(await detectGpu({ env: { PATH: smi.path, CUDA_VISIBLE_DEVICES: '-1' } })).toMatchObject({ available: false, source: 'override' });
    expect(smi.calls()).toEqual([]);
  });

  it('spawns nothing until asked, and asks nvidia-smi once however often the probe is called', async () => {
    const smi = fakeNvidiaSmi({ kind: 'gpus' });
    const probe = createGpuProbe({ env: { PATH: smi.path }, deviceNodes: NO_NODES });
    expect(smi.calls()).toEqual([]);
    const [a, b] = await Promise.all([probe(), probe()]);
    expect(await probe()).toBe(a);
    expect(b).toBe(a);
    expect(smi.calls()).toHaveLength(2); // the query and the banner, once
  });
});

describe('parseGpuQuery', () => {
  it('reads names with commas and memory the driver does not report', () => {
    expect(parseGpuQuery('0, Tesla T4, rev, 2, 15360, 535.104.05\n1, NVIDIA A10G, [N/A], 535.104.05\n')).toEqual({
      devices: [
        { index: 0, name: 'Tesla T4, rev, 2', memoryMiB: 15360 },
        { index: 1, name: 'NVIDIA A10G' },
      ],
      driver: '535.104.05',
    });
  });

  it('refuses empty output and lines that are not GPU rows', () => {
    expect(parseGpuQuery('\n')).toEqual({ error: 'listed no GPU' });
    expect(parseGpuQuery('No devices were found')).toMatchObject({ error: expect.stringContaining("'No devices were found'") });
    expect(parseGpuQuery('x, A100, 40960, 550')).toMatchObject({ error: expect.any(String) });
  });

  it('finds the CUDA version in the banner', () => {
    expect(parseCudaVersion('| NVIDIA-SMI 570.124.06   Driver Version: 570.124.06   CUDA Version: 12.8     |')).toBe('12.8');
    expect(parseCudaVersion('CUDA Version : 11.2')).toBe('11.2');
    expect(parseCudaVersion('no banner')).toBeUndefined();
  });
});
