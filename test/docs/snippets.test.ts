/**
 * Docs that cannot drift: every `sh` block of README.md and docs/*.md runs, line by line, against a
 * temp copy of the example project, and every `yaml` block that is a whole pipeline validates.
 *
 * Markers, written in the Markdown:
 * - `<!-- snippet: skip (why) -->` on the line before a block: the block is not run (it needs the
 *   network, a tool that is not installed, or a whole `npm ci`); the reason is required and counted.
 * - a command's trailing comment starting with `exit N` (`weir validate nope.yml  # exit 2`):
 *   that line must exit N instead of 0. Text after `exit N: ` up to an ellipsis (`…`) is what
 *   the command prints on stderr (`# exit 2: 'nope.yml' does not exist …`), and is checked too.
 * `npx weir` and `weir` are replaced by this checkout's `bin/weir.js` run by the current Node.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'weir.js');
/** What a user's project holds, copied for each Markdown file. */
const EXAMPLE_PROJECT = ['pipelines', 'data', 'weir.yml'];
const SKIP_MARKER = /^<!--\s*snippet:\s*skip\s*(?:\((.+)\))?\s*-->$/;

interface Block {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  body: string;
  /** Why it is not run, when marked skip. */
  skip?: string;
}

/** Fenced blocks (also indented ones, inside lists) with the skip marker that precedes them. */
export function extractBlocks(file: string, text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w+)\s*$/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]); j++) body.push(lines[j].slice(indent));
    const previous = lines.slice(0, i).reverse().find((l) => l.trim() !== '')?.trim() ?? '';
    const marker = SKIP_MARKER.exec(previous);
    blocks.push({ file, line: i + 1, lang: open[2], body: body.join('\n'), skip: marker ? (marker[1] ?? '') : undefined });
    i = j;
  }
  return blocks;
}

/** The command without its trailing comment (a `#` outside quotes after a space), and that comment. */
export function splitComment(line: string): { command: string; comment: string } {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) return { command: line.slice(0, i).trim(), comment: line.slice(i + 1).trim() };
  }
  return { command: line.trim(), comment: '' };
}

function expectedExit(comment: string): number {
  return Number(/^exit\s+(\d+)\b/.exec(comment)?.[1] ?? 0);
}

/** The documented error text of an `exit N: text …` comment, without the ellipsis. */
function expectedMessage(comment: string): string | undefined {
  const text = /^exit\s+\d+:\s*(.+)$/.exec(comment)?.[1];
  return text?.split('…').map((part) => part.trim()).filter(Boolean)[0];
}

function withLocalWeir(command: string): string {
  const weir = `'${process.execPath}' '${BIN}'`;
  // Also after environment assignments: `WEIR_GPU=1 weir run …`.
  return command.replace(/(^|[;&|]\s*|\$\(\s*)((?:[A-Z_][A-Z0-9_]*=\S*\s+)*)(?:npx\s+)?weir\b/g, `$1$2${weir}`);
}

const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const BLOCKS = DOCS.flatMap((file) => extractBlocks(file, readFileSync(join(ROOT, file), 'utf8')));
const isWholePipeline = (b: Block) => b.lang === 'yaml' && /^name:/m.test(b.body) && /^stages:/m.test(b.body);

function copyExampleProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-docs-'));
  for (const entry of EXAMPLE_PROJECT) if (existsSync(join(ROOT, entry))) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  return dir;
}

describe.each(DOCS.filter((file) => BLOCKS.some((b) => b.file === file && b.lang === 'sh' && b.skip === undefined)))('sh blocks of %s', (file) => {
  let dir: string;
  beforeAll(() => {
    dir = copyExampleProject();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const commands = BLOCKS.filter((b) => b.file === file && b.lang === 'sh' && b.skip === undefined).flatMap((block) =>
    block.body
      .split('\n')
      .map((line, n) => ({ ...splitComment(line), where: `${file}:${block.line + 1 + n}` }))
      .filter((c) => c.command !== ''),
  );
  // In order, in one project: a later line may read what an earlier one wrote (history after run).
  it.each(commands)('$where: $command', ({ command, comment }) => {
    const result = spawnSync('bash', ['-c', withLocalWeir(command)], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const expected = expectedExit(comment);
    expect(result.status, `${command}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(expected);
    const message = expectedMessage(comment);
    if (message !== undefined) expect(result.stderr).toContain(message);
  });
});

describe('yaml blocks that are whole pipelines', () => {
  let dir: string;
  beforeAll(() => {
    dir = copyExampleProject();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(BLOCKS.filter((b) => isWholePipeline(b) && b.skip === undefined).map((b) => ({ ...b, where: `${b.file}:${b.line}` })))('$where validates with no error', (block) => {
    // Each in its own file beside the examples, so pipelines/sql/… and data/… resolve as in the docs.
    const file = join(dir, 'pipelines', `_snippet-${block.line}.yml`);
    writeFileSync(file, block.body);
    const output = spawnSync(process.execPath, [BIN, 'validate', file, '--json'], { cwd: dir, encoding: 'utf8' });
    const result = JSON.parse(output.stdout);
    expect(result.diagnostics.filter((d: { severity: string }) => d.severity === 'error')).toEqual([]);
    expect(output.status).toBe(0);
  });
});

describe('snippet markers', () => {
  it('give a reason for every skipped block, and leave most blocks running', () => {
    const skipped = BLOCKS.filter((b) => b.skip !== undefined);
    for (const block of skipped) expect(block.skip, `${block.file}:${block.line}`).not.toBe('');
    const checked = BLOCKS.filter((b) => (b.lang === 'sh' || isWholePipeline(b)) && b.skip === undefined);
    console.info(`docs snippets: ${checked.length} blocks checked, ${skipped.length} skipped (${skipped.map((b) => `${b.file}:${b.line} ${b.skip}`).join('; ')})`);
    expect(checked.length).toBeGreaterThan(skipped.length);
  });

  it('finds fences inside lists, skip markers and exit-code comments', () => {
    const blocks = extractBlocks('x.md', 'text\n<!-- snippet: skip (needs network) -->\n```sh\ncurl x\n```\n- item\n  ```yaml\n  name: a\n  ```\n');
    expect(blocks).toEqual([
      { file: 'x.md', line: 3, lang: 'sh', body: 'curl x', skip: 'needs network' },
      { file: 'x.md', line: 7, lang: 'yaml', body: 'name: a', skip: undefined },
    ]);
    expect(splitComment(`weir run x --param q='a # b'   # exit 2 bad param`)).toEqual({ command: `weir run x --param q='a # b'`, comment: 'exit 2 bad param' });
    expect(expectedExit('exit 2 bad param')).toBe(2);
    expect(expectedExit('check (exit 2 on an error)')).toBe(0);
    expect(expectedMessage("exit 2: --date 'x' is not a date …")).toBe("--date 'x' is not a date");
    expect(expectedMessage('exit 2')).toBeUndefined();
    expect(withLocalWeir('npx weir history | head -1')).toBe(`'${process.execPath}' '${BIN}' history | head -1`);
  });
});
