/** What CLI commands need from the outside world, injected so tests can capture it. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Raw write to stdout without a newline (TTY status line). */
  write(text: string): void;
  /** stdout is a terminal: live progress, tables for history/status. */
  isTty: boolean;
  /** Colour output (a terminal, and NO_COLOR unset). */
  color: boolean;
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
}

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  /** 128 + the signal number, as shells report it: 130 for SIGINT, 143 for SIGTERM. */
  signal: (signal: NodeJS.Signals) => (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1),
} as const;

/** Bad command-line usage: exit 2 with the message. */
export class UsageError extends Error {}
