/**
 * The status site as a person sees it: `weir site --serve` (the real CLI over a real file ledger)
 * opened in headless Chromium (Debian's `chromium`, driven by playwright-core) at desktop and phone
 * widths. Every page loads with no console error and no failed request, every link resolves, the
 * key numbers match the ledger, and nothing scrolls sideways at 375 px. Screenshots go to
 * $WEIR_SCREENSHOTS_DIR when set (kept), else to a temp folder removed with the test.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { FsLedgerStore } from '../../src/ledger/fs-ledger-store.ts';
import { defaultStageKinds } from '../../src/stages/registry.ts';
import { readStatus } from '../../src/use-cases/status.ts';
import { BIN } from '../cli/helpers.ts';
import { sampleProject, sampleRuns } from './fixtures.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`test/site/browser.test.ts skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it)`);

/** Starts `weir site --serve --port 0` in `root`; resolves to the preview URL once it listens. */
async function serveSite(root: string): Promise<string> {
  const child = spawn(process.execPath, [BIN, 'site', '--serve', '--port', '0'], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
  onTestFinished(async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGINT');
    await exited;
  });
  let output = '';
  return new Promise((done, fail) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const url = /serving (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)?.[1];
      if (url) done(url);
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('exit', (code) => fail(new Error(`weir site exited ${code} before serving:\n${output}`)));
  });
}

async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  onTestFinished(() => browser.close());
  return browser;
}

function screenshotDir(): string {
  const kept = process.env.WEIR_SCREENSHOTS_DIR;
  if (kept) {
    mkdirSync(kept, { recursive: true });
    return kept;
  }
  const dir = mkdtempSync(join(tmpdir(), 'weir-site-shots-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Opens `url`, failing on console errors, failed requests and HTTP errors; returns the page's links. */
async function openCleanly(page: Page, url: string): Promise<string[]> {
  const problems: string[] = [];
  page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`failed: ${request.url()}`));
  page.on('response', (response) => response.status() >= 400 && problems.push(`HTTP ${response.status()}: ${response.url()}`));
  const response = await page.goto(url);
  expect(response?.status(), url).toBe(200);
  expect(problems, url).toEqual([]);
  page.removeAllListeners();
  return page.$$eval('a[href]', (links) => links.map((a) => (a as unknown as { href: string }).href));
}

async function hasHorizontalScroll(page: Page): Promise<boolean> {
  // A string: the test is type-checked without the DOM library.
  return page.evaluate<boolean>('document.documentElement.scrollWidth > window.innerWidth');
}

describe.skipIf(!hasChromium)('the status site in headless Chromium', () => {
  it('loads every page cleanly, links resolve, numbers match the ledger, and it fits a phone', async () => {
    const root = sampleProject();
    const ledger = new FsLedgerStore(join(root, '.weir', 'ledger'));
    const runs = sampleRuns();
    // sla branch: an SLA breach on two runs and a paused pipeline, for the overview's control facts.
    runs[4]!.slaBreaches = [{ scope: 'stage', stage: 'clean', at: '2026-11-24T06:17:40.000Z', slaMs: 10_000, elapsedMs: 19_000 }];
    runs[5]!.slaBreaches = [{ scope: 'start', at: '2026-11-25T06:17:00.000Z', slaMs: 60_000, elapsedMs: 90_000 }];
    for (const run of runs) await ledger.finishRun(run);
    await ledger.writeControl('daily-rates', { paused: true, by: 'ana', at: '2026-11-27T09:00:00.000Z', reason: 'source down' });
    const [url, browser] = await Promise.all([serveSite(root), launchBrowser()]);
    const shots = screenshotDir();
    const desktop = await browser.newPage({ viewport: { width: 1280, height: 900 } });

    const links = await openCleanly(desktop, url);
    expect(await desktop.locator('h1').textContent()).toBe('Pipelines');
    expect(await desktop.locator('#pipeline-daily-rates ~ dl [data-key="success-rate"]').textContent()).toBe('83% (5 of 6)');
    expect(await desktop.locator('ul[aria-label="Last 6 runs of daily-rates"] a').count()).toBe(6);
    expect(await desktop.locator('ul[aria-label="Last 6 runs of daily-rates"] a[data-status="failed"]').count()).toBe(1);
    // Due intervals and pause as `weir status` computes them at the instant the site was generated (its footer says when).
    const generatedAt = (await desktop.locator('footer time').getAttribute('datetime'))!;
    const status = await readStatus({ root, pipeline: 'daily-rates' }, { ledger, clock: () => new Date(generatedAt), kinds: defaultStageKinds() });
    if (!status.ok) throw new Error(status.message);
    const card = desktop.locator('#pipeline-daily-rates ~ dl');
    expect(await card.locator('[data-key="due"]').getAttribute('data-count')).toBe(String(status.pipelines[0]!.due!.count));
    expect(await card.locator('[data-key="paused"]').textContent()).toBe('yes, since 2026-11-27 09:00 UTC by ana: source down');
    expect(await card.locator('[data-key="sla-breaches"]').getAttribute('data-runs')).toBe('2');
    expect(await desktop.locator('ul[aria-label="Last 6 runs of daily-rates"] a[data-sla="breached"]').count()).toBe(2);
    await desktop.screenshot({ path: join(shots, 'overview-desktop.png'), fullPage: true });

    const local = [...new Set(links.filter((href) => href.startsWith(url)).map((href) => href.split('#')[0]!))];
    expect(local.length).toBe(runs.length + 1); // the index and one page per run
    for (const href of local) await openCleanly(await browser.newPage(), href);

    const retried = runs[5]!;
    const runPage = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await openCleanly(runPage, `${url}runs/${retried.runId}.html`);
    expect(await runPage.locator('[data-key="status"]').textContent()).toBe(retried.status);
    expect(await runPage.locator('tr[data-stage="clean"] [data-key="attempts"]').textContent()).toBe(String(retried.stages.clean!.attempts.length));
    expect(await runPage.locator('[data-key="dead-letters"]').textContent()).toContain('3 of 11 rows');
    expect(await runPage.locator('[data-key="artifact"]').getAttribute('href')).toBe('https://github.com/acme/data/actions/runs/42#artifacts');
    expect(await runPage.locator('svg[role="img"] title').first().textContent()).toContain('Stage timeline');
    await runPage.screenshot({ path: join(shots, 'run-desktop.png'), fullPage: true });

    const phone = await browser.newPage({ viewport: { width: 375, height: 740 }, isMobile: true });
    for (const [name, path] of [['overview', ''], ['run', `runs/${retried.runId}.html`]] as const) {
      await openCleanly(phone, `${url}${path}`);
      expect(await hasHorizontalScroll(phone), `${name} at 375 px`).toBe(false);
      await phone.screenshot({ path: join(shots, `${name}-phone.png`), fullPage: true });
    }
    // Chromium, a CLI child process and ~10 page loads: well past the default 20 s on a loaded machine.
  }, 90_000);
});
