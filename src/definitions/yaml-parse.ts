/**
 * Reading a YAML file into a plain value, fast, with positions only when a diagnostic needs one.
 *
 * Two parsers, on purpose. js-yaml builds plain values about 10× faster than the `yaml` library's
 * positioned documents (a 10,000-stage pipeline: ~80 ms against ~1 s), so every file is read with
 * it first. The `yaml` library stays the authority for everything else: its CST-backed document
 * gives line and column for diagnostics (built lazily, on the first `locate`), its syntax messages
 * are the ones weir reports (WEIR100), and it takes over whenever js-yaml declines the file
 * (aliases, duplicate keys, any syntax error). Both read YAML 1.2 with the core schema.
 */
import { load, YAMLException } from 'js-yaml';
import { LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { Diagnostic } from '../model/diagnostic.ts';
import { createPositionIndex, type SourceRange, type YamlPath, type YamlSource } from './yaml-positions.ts';

export type { SourceRange, YamlPath, YamlSource };

/**
 * Deepest nesting of mappings and lists a weir file may have. Real pipelines stay under 10; the
 * limit stops a hostile file (`[[[[…`) before a recursive parser exhausts the stack.
 */
export const MAX_YAML_DEPTH = 64;

/**
 * Most alias expansions (`*name`) the value of a file may need: far above what anchors for shared
 * settings use, far below a "billion laughs" file, whose expansion would exhaust memory.
 */
export const MAX_YAML_ALIASES = 1000;

/** Diagnostic codes of reading YAML: syntax (WEIR100), duplicate keys (WEIR103), limits (WEIR106). */
export const YAML_CODES = { syntax: 'WEIR100', duplicateKey: 'WEIR103', limit: 'WEIR106' } as const;

const YAML_HINTS: Readonly<Record<string, string>> = {
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  BAD_INDENT: 'check the indentation and closing brackets of this block',
  MISSING_CHAR: 'add the missing closing character',
  BLOCK_AS_IMPLICIT_KEY: "quote the value (it contains ': ') or put the nested mapping on its own lines",
  MULTILINE_IMPLICIT_KEY: 'a key must fit on one line: check for a missing ":" or quote',
};

const DEPTH_MESSAGE = `the YAML nests mappings and lists deeper than ${MAX_YAML_DEPTH} levels, more than weir reads: flatten the structure`;
const ALIAS_MESSAGE = `the YAML aliases (*name) expand to more than ${MAX_YAML_ALIASES} nodes, which looks like a "billion laughs" file: repeat the settings instead of nesting aliases of aliases`;

/** Parses `text`; problems come back as diagnostics, never as exceptions. */
export function parseYamlSource(text: string, file: string): { source?: YamlSource; diagnostics: Diagnostic[] } {
  let value: unknown;
  try {
    // maxAliases 0: a file with aliases takes the positioned path, which bounds their expansion.
    value = load(text, { maxAliases: 0, maxDepth: MAX_YAML_DEPTH });
  } catch (error) {
    if (error instanceof YAMLException && /maxDepth/.test(error.message)) return { diagnostics: [depthDiagnostic(error, file)] };
    return parsePositioned(text, file);
  }
  let index: ReturnType<typeof createPositionIndex> | undefined;
  // Positions are built on first use: a file without diagnostics never pays for them.
  const positions = () => (index ??= createPositionIndex(positionedDocument(text), text, file));
  return { source: lazySource(value, text, positions), diagnostics: [] };
}

function positionedDocument(text: string): { doc: Document.Parsed; lineCounter: LineCounter } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  return { doc, lineCounter };
}

function lazySource(value: unknown, text: string, positions: () => ReturnType<typeof createPositionIndex>): YamlSource {
  return {
    value,
    text,
    locate: (path) => positions().source.locate(path),
    locateKey: (path) => positions().source.locateKey(path),
    nodeAt: (path) => positions().source.nodeAt(path),
    rangeOf: (start, end) => positions().source.rangeOf(start, end),
  };
}

/** The slow, exact path: the `yaml` library's document, its errors, duplicate keys, alias limits. */
function parsePositioned(text: string, file: string): { source?: YamlSource; diagnostics: Diagnostic[] } {
  let positioned: ReturnType<typeof positionedDocument>;
  try {
    positioned = positionedDocument(text);
  } catch (error) {
    // The library reports problems as document errors; a throw is a bug or a limit it did not foresee.
    const message = `the YAML parser could not read this file: ${(error as Error).message}: fix the YAML, or report the file to weir`;
    return { diagnostics: [{ code: YAML_CODES.limit, severity: 'error', file, line: 1, column: 1, message }] };
  }
  const { doc } = positioned;
  const index = createPositionIndex(positioned, text, file);
  if (doc.errors.length > 0) {
    const diagnostics = doc.errors.map((error): Diagnostic => {
      const range = index.source.rangeOf(error.pos[0], error.pos[1]);
      if (error.code === 'RESOURCE_EXHAUSTION') return { code: YAML_CODES.limit, severity: 'error', file, ...range, message: DEPTH_MESSAGE };
      const reason = error.message.replace(/ at line \d+, column \d+[\s\S]*$/, '');
      const hint = YAML_HINTS[error.code] ?? 'fix the YAML syntax here';
      return { code: YAML_CODES.syntax, severity: 'error', file, ...range, message: `YAML syntax error: ${reason}: ${hint}` };
    });
    return { diagnostics };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    // The library throws (rather than reports) when aliases expand too far, or on anything it cannot build.
    const at = firstAliasRange(doc, index.source.rangeOf) ?? index.source.rangeOf(0, 0);
    const isAliasLimit = error instanceof ReferenceError && /alias/i.test(error.message);
    const message = isAliasLimit ? ALIAS_MESSAGE : `the YAML parser could not read this file: ${(error as Error).message}: fix the YAML here`;
    return { diagnostics: [{ code: YAML_CODES.limit, severity: 'error', file, ...at, message }] };
  }
  return { source: { ...index.source, value }, diagnostics: index.duplicates };
}

function firstAliasRange(doc: Document.Parsed, rangeOf: YamlSource['rangeOf']): SourceRange | undefined {
  let found: SourceRange | undefined;
  visit(doc, {
    Alias(_key, node) {
      if (node.range) found = rangeOf(node.range[0], node.range[1]);
      return found ? visit.BREAK : undefined;
    },
  });
  return found;
}

function depthDiagnostic(error: YAMLException, file: string): Diagnostic {
  const mark = error.mark as { line?: number; column?: number } | undefined;
  const line = (mark?.line ?? 0) + 1;
  const column = (mark?.column ?? 0) + 1;
  return { code: YAML_CODES.limit, severity: 'error', file, line, column, message: DEPTH_MESSAGE };
}
