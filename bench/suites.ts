/** Every benchmark suite, in the order `npm run bench` runs them. A new suite: export a `Suite` (bench/lib.ts) and add it here. */
import { binding } from './binding.ts';
import { etl } from './etl.ts';
import { ledger } from './ledger.ts';
import type { Suite } from './lib.ts';
import { handoff } from './handoff.ts';
import { overhead } from './overhead.ts';
import { resilience } from './resilience.ts';
import { scale } from './scale.ts';
import { startup } from './startup.ts';

// `any`: each suite has its own result type; run() and table() of one suite always agree.
export const SUITES: Record<string, Suite<any>> = { startup, overhead, etl, scale, resilience, ledger, binding, handoff };
