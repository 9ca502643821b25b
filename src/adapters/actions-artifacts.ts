/**
 * The `ArtifactStore` of a run inside GitHub Actions: the real `@actions/artifact` client, which
 * talks to the Actions results service named by ACTIONS_RESULTS_URL / ACTIONS_RUNTIME_TOKEN (set by
 * the runner for node actions). The only module that imports `@actions/artifact`.
 */
import { DefaultArtifactClient } from '@actions/artifact';
import type { ArtifactStore } from '../use-cases/run-artifact.ts';

export interface ActionsArtifactStoreOptions {
  /** Days GitHub keeps the artifact (1–90 public, 1–400 private). Default: the repository's setting. */
  retentionDays?: number;
}

export function createActionsArtifactStore(options: ActionsArtifactStoreOptions = {}): ArtifactStore {
  const client = new DefaultArtifactClient();
  return {
    async upload(name, files, rootDirectory) {
      const result = await client.uploadArtifact(name, [...files], rootDirectory, { retentionDays: options.retentionDays });
      return { id: result.id, size: result.size, digest: result.digest };
    },
  };
}
