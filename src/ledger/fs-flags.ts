/**
 * Flags in a local ledger folder: `.flags/<scope>/<name>.json` and `.flags/<scope>/<name>/<key>.json`
 * (layout and encoding in flags.ts). One file per flag, each replaced atomically: concurrent setters
 * of different flags touch different files, so no update is lost; the same flag, last writer wins.
 */
import { join } from 'node:path';
import { ensureDir, listIfExists, readJsonIfExists, removeDurable, writeFileDurable } from './durable-file.ts';
import { decodeFlagKey, FLAGS_DIR, flagPath, sortFlags, type Flag, type FlagWrite } from './flags.ts';

/** Temp files start with '.'; everything else that ends in .json is a flag. */
function flagFiles(names: string[]): string[] {
  return names.filter((n) => !n.startsWith('.') && n.endsWith('.json'));
}

export class FsFlags {
  readonly #dir: string;

  /** `ledgerDir`: the ledger folder (flags live in its `.flags/`). */
  constructor(ledgerDir: string) {
    this.#dir = join(ledgerDir, FLAGS_DIR);
  }

  async read(scope: string): Promise<Flag[]> {
    const dir = join(this.#dir, scope);
    const flags: Flag[] = [];
    for (const entry of await listIfExists(dir)) {
      if (entry.startsWith('.')) continue;
      if (entry.endsWith('.json')) {
        const flag = await readJsonIfExists<Flag>(join(dir, entry));
        if (flag) flags.push(flag);
        continue;
      }
      for (const file of flagFiles(await listIfExists(join(dir, entry)))) {
        const flag = await readJsonIfExists<Flag>(join(dir, entry, file));
        if (flag) flags.push({ ...flag, key: flag.key ?? decodeFlagKey(file.slice(0, -'.json'.length)) });
      }
    }
    return sortFlags(flags);
  }

  async write(writes: readonly FlagWrite[]): Promise<void> {
    for (const write of writes) {
      const path = join(this.#dir, flagPath(write));
      if (write.unset) {
        await removeDurable(path);
        continue;
      }
      const { unset: _unset, ...flag } = write;
      await ensureDir(join(path, '..'));
      await writeFileDurable(path, `${JSON.stringify(flag, null, 2)}\n`);
    }
  }
}
