/**
 * YAML with source positions: from `yaml`'s CST-backed documents, answers "where is
 * stages.load.needs[0]?" in O(path length). Every mapping is indexed once at parse time, because
 * `YAMLMap.get` is a linear scan and 10,000 stage lookups would make validation quadratic.
 */
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, type LineCounter, type Node, type Scalar } from 'yaml';
import type { Diagnostic } from '../model/diagnostic.ts';

export type YamlPath = readonly (string | number)[];

export interface SourceRange {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface YamlSource {
  /** The document as plain JavaScript (last value wins for duplicate keys, which are reported). */
  value: unknown;
  /** Range of the value at `path`, or of its nearest existing parent. */
  locate(path: YamlPath): SourceRange;
  /** Range of the key at the end of `path` (for unknown fields), or of the nearest existing node. */
  locateKey(path: YamlPath): SourceRange;
  /** The node at `path` itself, when it exists. */
  nodeAt(path: YamlPath): Node | undefined;
  /** Range of characters [start, end) of the source. */
  rangeOf(start: number, end: number): SourceRange;
  /** Source text, for mapping offsets inside scalars. */
  text: string;
}

interface Entry {
  key: Node;
  value: Node | null;
}

/**
 * Positions of a parsed `yaml` document: every mapping indexed once, duplicate keys found (WEIR103).
 * `yaml-parse.ts` decides when a file needs this (only when a diagnostic must be located).
 */
export function createPositionIndex(
  positioned: { doc: Document.Parsed; lineCounter: LineCounter },
  text: string,
  file: string,
): { source: Omit<YamlSource, 'value'>; duplicates: Diagnostic[] } {
  const { doc, lineCounter } = positioned;
  const rangeOf = (start: number, end: number): SourceRange => {
    const from = lineCounter.linePos(start);
    const to = lineCounter.linePos(Math.max(start, end));
    return { line: from.line, column: from.col, endLine: to.line, endColumn: to.col };
  };
  const index = new Map<Node, Map<string, Entry>>();
  const duplicates = indexMappings(doc.contents, index, rangeOf, file);
  return { source: createSource(doc.contents, index, rangeOf, text), duplicates };
}

type RangeOf = (start: number, end: number) => SourceRange;

function createSource(root: Node | null, index: Map<Node, Map<string, Entry>>, rangeOf: RangeOf, text: string): Omit<YamlSource, 'value'> {
  const nodeRange = (node: Node): SourceRange => (node.range ? rangeOf(node.range[0], node.range[1]) : rangeOf(0, 0));
  // Walks down `path`; returns the deepest node reached and the entry of the last step when found.
  const walk = (path: YamlPath): { node: Node | null; entry?: Entry; complete: boolean } => {
    let node = root;
    let entry: Entry | undefined;
    for (const step of path) {
      const next = childOf(node, step, index);
      if (!next?.value) return { node, entry: next, complete: false };
      node = next.value;
      entry = next;
    }
    return { node, entry, complete: true };
  };
  return {
    text,
    rangeOf,
    nodeAt: (path) => {
      const found = walk(path);
      return found.complete ? (found.node ?? undefined) : undefined;
    },
    locate: (path) => {
      const found = walk(path);
      if (!found.complete && found.entry) return nodeRange(found.entry.key);
      return found.node ? nodeRange(found.node) : rangeOf(0, 0);
    },
    locateKey: (path) => {
      const parent = walk(path.slice(0, -1));
      const entry = parent.complete ? childOf(parent.node, path[path.length - 1], index) : undefined;
      if (entry && isScalar(entry.key)) return nodeRange(entry.key);
      return parent.node ? nodeRange(parent.node) : rangeOf(0, 0);
    },
  };
}

function childOf(node: Node | null, step: string | number, index: Map<Node, Map<string, Entry>>): Entry | undefined {
  const target = isAlias(node) ? null : node;
  if (isMap(target)) return index.get(target)?.get(String(step));
  if (isSeq(target) && typeof step === 'number') {
    const item = target.items[step];
    return item ? { key: item as Node, value: item as Node } : undefined;
  }
  return undefined;
}

/** Indexes every mapping by key (first occurrence wins) and reports duplicate keys. Iterative. */
function indexMappings(root: Node | null, index: Map<Node, Map<string, Entry>>, rangeOf: RangeOf, file: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const stack: Node[] = root ? [root] : [];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (isSeq(node)) {
      for (const item of node.items) if (item) stack.push(item as Node);
      continue;
    }
    if (!isMap(node)) continue;
    const entries = new Map<string, Entry>();
    index.set(node, entries);
    for (const pair of node.items) {
      if (!isPair(pair) || !pair.key) continue;
      const key = pair.key as Node;
      const name = isScalar(key) ? String(key.value) : String(key);
      const value = (pair.value as Node | null) ?? null;
      const first = entries.get(name);
      if (first) diagnostics.push(duplicateKey(name, first.key, key, rangeOf, file));
      else entries.set(name, { key, value });
      if (value) stack.push(value);
    }
  }
  return diagnostics;
}

function duplicateKey(name: string, first: Node, second: Node, rangeOf: RangeOf, file: string): Diagnostic {
  const firstLine = rangeOf(first.range![0], first.range![0]).line;
  const range = rangeOf(second.range![0], second.range![1]);
  return {
    code: 'WEIR103',
    severity: 'error',
    file,
    ...range,
    message: `duplicate key '${name}' on lines ${firstLine} and ${range.line}: keys must be unique, so rename or remove one (only the last would be kept)`,
  };
}

/**
 * Where offset `offset` of a string value lies in the file, when the scalar's text in the file is
 * exactly its value (plain or quoted without escapes, on one line); otherwise the scalar's start.
 */
export function locateInScalar(source: YamlSource, node: Node | undefined, offset: number): SourceRange | undefined {
  if (!isScalar(node) || !node.range || typeof node.value !== 'string') return undefined;
  const [start, end] = node.range;
  const quoted = (node as Scalar).type === 'QUOTE_DOUBLE' || (node as Scalar).type === 'QUOTE_SINGLE';
  const innerStart = quoted ? start + 1 : start;
  const raw = source.text.slice(innerStart, quoted ? end - 1 : end);
  if (raw !== node.value || raw.includes('\n')) return source.rangeOf(start, end);
  return source.rangeOf(innerStart + offset, end);
}
