/** `weir site` through the real CLI, and its preview server's refusals. */
import { get } from 'node:http';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { serveStaticFolder } from '../../src/entrypoints/cli-site.ts';
import { FsLedgerStore } from '../../src/ledger/fs-ledger-store.ts';
import { weir } from '../cli/helpers.ts';
import { sampleProject, sampleRuns } from './fixtures.ts';

describe('weir site', () => {
  it('writes the index and a page per run, and replaces run pages of an earlier site', async () => {
    const root = sampleProject();
    for (const run of sampleRuns()) await new FsLedgerStore(join(root, '.weir', 'ledger')).finishRun(run);
    mkdirSync(join(root, 'out', 'runs'), { recursive: true });
    writeFileSync(join(root, 'out', 'runs', 'stale.html'), 'old');
    const result = await weir(root, ['site', '--out', 'out', '--limit', '2']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('2 pipeline(s), 3 run page(s)');
    expect(readdirSync(join(root, 'out', 'runs')).sort()).toEqual(['20261101T061700.000Z-le0001.html', '20261124T061700.000Z-da0024.html', '20261125T061700.000Z-da0025.html']);
    expect(readFileSync(join(root, 'out', 'index.html'), 'utf8')).toContain('<h2 id="pipeline-daily-rates">daily-rates');
  });

  it('refuses a bad port or an argument with exit 2, and is listed in help', async () => {
    const root = sampleProject();
    expect(await weir(root, ['site', '--port', '99999'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--port must be a whole number from 0 to 65535') });
    expect(await weir(root, ['site', 'extra'])).toMatchObject({ code: 2, stderr: expect.stringContaining("'weir site' takes no arguments") });
    expect((await weir(root, ['help'])).stdout).toContain('weir site [--out dir] [--serve]');
  });
});

describe('serveStaticFolder', () => {
  it('serves files and folder indexes, and answers 404 outside the folder or for a missing file', async () => {
    const root = sampleProject();
    writeFileSync(join(root, 'index.html'), '<p>hi</p>');
    const server = await serveStaticFolder(join(root, 'pipelines'), 0);
    onTestFinished(() => server.close());
    const fetchStatus = async (path: string) => (await fetch(`${server.url}${path}`)).status;
    // Raw paths: fetch would normalise '..' away before the server sees it.
    const rawStatus = (path: string) => new Promise<number | undefined>((done, fail) => get(`${server.url}`, { path }, (r) => (r.resume(), done(r.statusCode))).on('error', fail));
    expect(await (await fetch(`${server.url}daily-rates.yml`)).text()).toContain('name: daily-rates');
    expect(await rawStatus('/../index.html')).toBe(404);
    expect(await rawStatus('/%2e%2e/index.html')).toBe(404);
    expect(await rawStatus('/daily-rates.yml')).toBe(200);
    expect(await fetchStatus('missing.html')).toBe(404);
    expect(await fetchStatus('')).toBe(404); // no index.html in pipelines/
  });
});
