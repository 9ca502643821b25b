/**
 * The environment of a `command` stage's child, built in one place. It starts from the run's
 * environment without the runner's credentials: inside GitHub Actions those would hand the
 * Actions runtime token, the OIDC token request and every action input to any user script.
 * A stage gets one of them back only by naming it in `with.env_pass`.
 */

/** Variables never inherited unless passed explicitly: the Actions runner's credentials and endpoints. */
export const RUNNER_CREDENTIALS: readonly string[] = [
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_RUNTIME_URL',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_URL',
  'ACTIONS_RESULTS_URL',
  'ACTIONS_CACHE_URL',
  'GITHUB_TOKEN',
];
/** Action inputs (`with:` of the weir action, secrets included) arrive as INPUT_<NAME>. */
const ACTION_INPUT = /^INPUT_/;

/** Whether `name` is stripped from a child's environment unless passed explicitly. */
export function isRunnerCredential(name: string): boolean {
  return RUNNER_CREDENTIALS.includes(name) || ACTION_INPUT.test(name);
}

export interface ChildEnvInput {
  /** The run's environment (the weir process's, unless a test injects one). */
  base: Readonly<Record<string, string | undefined>>;
  /** `with.env`: extra variables, over everything else but the WEIR_* ones. */
  extra: Readonly<Record<string, string>>;
  /** `with.env_pass`: stripped variables the stage may still see. */
  pass: readonly string[];
  /** WEIR_RUN_ID, WEIR_STAGE, …: what the child knows of its run. */
  weir: Readonly<Record<string, string>>;
}

/** base − runner credentials (+ those in `pass`) + extra + weir. */
export function buildChildEnv(input: ChildEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  const passed = new Set(input.pass);
  for (const [name, value] of Object.entries(input.base)) {
    if (value !== undefined && (!isRunnerCredential(name) || passed.has(name))) env[name] = value;
  }
  return { ...env, ...input.extra, ...input.weir };
}
