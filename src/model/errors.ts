/**
 * Typed errors: one class per decision the engine makes. Each has a stable `code` that the ledger
 * records and the CLI maps to an exit status, and keeps its `cause`.
 */
import type { Diagnostic } from './diagnostic.ts';

export type ErrorCode =
  | 'config_error'
  | 'stage_failed'
  | 'stage_timeout'
  | 'run_timeout'
  | 'check_failed'
  | 'resource_unavailable'
  | 'gate_not_met'
  | 'gate_timeout'
  | 'circuit_open'
  | 'cancelled'
  | 'abandoned'
  | 'run_conflict'
  | 'internal_error';

export interface ErrorContext {
  stage?: string;
  attempt?: number;
  /** `<run id>/<stage>`: greppable across logs, ledger and reports. */
  correlationId?: string;
}

export class WeirError extends Error {
  readonly code: ErrorCode = 'stage_failed';
  readonly stage?: string;
  readonly attempt?: number;
  readonly correlationId?: string;
  constructor(message: string, options: ErrorOptions & ErrorContext = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.stage = options.stage;
    this.attempt = options.attempt;
    this.correlationId = options.correlationId;
  }
}

/** Pipeline or config files are invalid; nothing ran and nothing was written. */
export class ConfigError extends WeirError {
  override readonly code = 'config_error';
  readonly diagnostics: readonly Diagnostic[];
  constructor(message: string, diagnostics: readonly Diagnostic[] = [], options: ErrorOptions = {}) {
    super(message, options);
    this.diagnostics = diagnostics;
  }
}

/** A stage's own work failed (bad SQL, HTTP error, non-zero exit). */
export class StageFailedError extends WeirError {
  override readonly code = 'stage_failed';
}

/** A stage ran past its `timeout`; its work was aborted. */
export class StageTimeoutError extends WeirError {
  override readonly code = 'stage_timeout';
}

/** The whole run passed the pipeline `timeout`. */
export class RunTimeoutError extends WeirError {
  override readonly code = 'run_timeout';
}

/** An `error`-severity data-quality check failed. */
export class CheckFailedError extends WeirError {
  override readonly code = 'check_failed';
}

/** Hardware or a service the stage requires is absent (e.g. no GPU): fails fast, never retried. */
export class ResourceUnavailableError extends WeirError {
  override readonly code = 'resource_unavailable';
}

/** A gate's condition is not met yet; the run parks and can resume later. */
export class GateNotMetError extends WeirError {
  override readonly code = 'gate_not_met';
}

/** A gate's condition was still not met past its `timeout` (from when the run first parked); the gate fails. */
export class GateTimeoutError extends WeirError {
  override readonly code = 'gate_timeout';
}

/** A circuit breaker is open for the stage's dependency; the call failed fast. */
export class CircuitOpenError extends WeirError {
  override readonly code = 'circuit_open';
}

/** The run was cancelled (signal, or a sibling's failure in fail-fast mode). */
export class CancelledError extends WeirError {
  override readonly code = 'cancelled';
}

/** The run's process died without finishing it (kill -9, a lost runner); recovery closed its record. */
export class AbandonedError extends WeirError {
  override readonly code = 'abandoned';
}

/** Another run of the pipeline holds the ledger's lease (max_active_runs reached). */
export class RunConflictError extends WeirError {
  override readonly code = 'run_conflict';
}

/** A bug in weir or in a stage kind (not in the pipeline): the run is still recorded, with this. */
export class InternalError extends WeirError {
  override readonly code = 'internal_error';
}

/** What the ledger and reports keep of an error. */
export interface ErrorRecord {
  code: ErrorCode;
  name: string;
  message: string;
  stage?: string;
  attempt?: number;
  correlationId?: string;
  cause?: string;
}

export function toErrorRecord(error: unknown): ErrorRecord {
  if (error instanceof WeirError) {
    return {
      code: error.code,
      name: error.name,
      message: error.message,
      stage: error.stage,
      attempt: error.attempt,
      correlationId: error.correlationId,
      cause: error.cause instanceof Error ? error.cause.message : error.cause === undefined ? undefined : String(error.cause),
    };
  }
  if (error instanceof Error) return { code: 'stage_failed', name: error.name, message: error.message };
  return { code: 'stage_failed', name: 'Error', message: String(error) };
}
