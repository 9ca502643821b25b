/**
 * The GitHub Actions runner as a port: inputs, outputs, masking, annotations, log groups and the
 * step summary. The only module that imports `@actions/core`; the Action's entry point builds it
 * and the rest of weir sees the `ActionsRuntime` interface (tests can hand in their own).
 */
import * as core from '@actions/core';

/** A workflow command annotation (`::error file=…,line=…::message`), shown on the file in the PR. */
export interface Annotation {
  severity: 'error' | 'warning' | 'notice';
  message: string;
  /** Shown in bold above the message: the diagnostic code. */
  title?: string;
  /** Path relative to the repository root (GITHUB_WORKSPACE). */
  file?: string;
  startLine?: number;
  startColumn?: number;
  endLine?: number;
  endColumn?: number;
}

export interface ActionsRuntime {
  /** An input as the runner passes it (`INPUT_<NAME>`), trimmed; '' when not given. */
  input(name: string): string;
  setOutput(name: string, value: string): void;
  /** Masks a value in every later log line (`::add-mask::`). */
  setSecret(value: string): void;
  annotate(annotation: Annotation): void;
  info(line: string): void;
  warning(message: string): void;
  /** One collapsible block in the log (`::group::` … `::endgroup::`). */
  group(title: string, lines: readonly string[]): void;
  /** Appends Markdown to the step summary (`GITHUB_STEP_SUMMARY`); a failure is a warning, never a failed job. */
  appendSummary(markdown: string): Promise<void>;
  /** Marks the step failed (exit code 1) with a message in the log. */
  setFailed(message: string): void;
}

export function createActionsRuntime(): ActionsRuntime {
  return {
    input: (name) => core.getInput(name),
    setOutput: (name, value) => core.setOutput(name, value),
    setSecret: (value) => core.setSecret(value),
    annotate: ({ severity, message, ...properties }) => {
      const report = severity === 'error' ? core.error : severity === 'warning' ? core.warning : core.notice;
      report(message, properties);
    },
    info: (line) => core.info(line),
    warning: (message) => core.warning(message),
    group: (title, lines) => {
      core.startGroup(title);
      for (const line of lines) core.info(line);
      core.endGroup();
    },
    appendSummary: async (markdown) => {
      try {
        await core.summary.addRaw(markdown, true).write();
      } catch (error) {
        // An optional side effect: the run's outcome does not depend on it.
        core.warning(`could not write the job summary: ${(error as Error).message}`);
      }
    },
    setFailed: (message) => core.setFailed(message),
  };
}
