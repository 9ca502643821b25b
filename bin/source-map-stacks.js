// Stack traces that point at src/ instead of the minified bundle, for a fraction of the cost of
// process.setSourceMapsEnabled(true): Node parses the bundle's source map at every start when that
// is on (~35 ms of a ~135 ms `weir --version`); here the map is read only when a stack is first
// formatted, which happens on an unexpected error, not on an ordinary command.
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Formats stacks like V8 does, with every frame inside `bundlePath` mapped through `${bundlePath}.map`. */
export function mapBundleStacks(bundlePath) {
  const bundleUrl = pathToFileURL(bundlePath).href;
  /** @type {SourceMap | null | undefined} undefined: not read yet; null: unreadable. */
  let map;
  const mapFrame = (frame) => {
    const text = frame.toString();
    if (frame.getFileName() !== bundleUrl) return text;
    map ??= readSourceMap(`${bundlePath}.map`);
    const line = frame.getLineNumber();
    const column = frame.getColumnNumber();
    const entry = map?.findEntry(line - 1, column - 1);
    if (!entry?.originalSource) return text;
    const source = fileURLToPath(new URL(entry.originalSource, bundleUrl));
    return text.replace(`${bundleUrl}:${line}:${column}`, `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`);
  };
  Error.prepareStackTrace = (error, frames) =>
    [Error.prototype.toString.call(error), ...frames.map((frame) => `    at ${mapFrame(frame)}`)].join('\n');
}

function readSourceMap(path) {
  try {
    return new SourceMap(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return null; // a missing or broken map leaves the bundle's own positions in the stack
  }
}
