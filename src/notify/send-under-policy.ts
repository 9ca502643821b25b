/**
 * One message through one channel under a retry policy (executeWithPolicy): each attempt has the
 * policy's timeout on top of the caller's signal; the result says how many attempts it took.
 */
import type { ResolvedPolicy } from '../policies/policy.ts';
import { executeWithPolicy, type RetryDeps } from '../policies/retry.ts';
import type { ChannelSender } from './channel.ts';
import type { NotificationMessage } from './message.ts';

export type SendOutcome = { ok: true; attempts: number } | { ok: false; attempts: number; error: unknown };

export async function sendUnderPolicy(
  sender: ChannelSender,
  message: NotificationMessage,
  policy: ResolvedPolicy,
  deps: Pick<RetryDeps, 'sleep' | 'random' | 'signal'>,
): Promise<SendOutcome> {
  let attempts = 0;
  try {
    await executeWithPolicy(
      (attempt) => {
        attempts = attempt;
        return sender.send(message, AbortSignal.any([deps.signal, AbortSignal.timeout(policy.timeoutMs)]));
      },
      policy,
      { ...deps, onRetry: () => undefined },
    );
    return { ok: true, attempts };
  } catch (error) {
    return { ok: false, attempts, error };
  }
}
