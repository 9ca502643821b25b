/** `weir notify test <channel>`: parse, call the use case, render. */
import { loadWeirConfig } from '../definitions/weir-config.ts';
import { formatDiagnostic } from '../model/diagnostic.ts';
import { didYouMean } from '../model/did-you-mean.ts';
import { sleep } from '../policies/retry.ts';
import { sendTestNotification } from '../use-cases/notify-test.ts';
import type { CliValues } from './cli.ts';
import { EXIT, type Io, UsageError } from './cli-io.ts';
import { rootOf } from './cli-pipelines.ts';

export async function notifyCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  const [action, channel, ...rest] = args;
  if (action !== 'test' || channel === undefined || rest.length > 0) throw new UsageError(`usage: weir notify test <channel>${action && action !== 'test' ? ` ('${action}' is not a notify action; the one action is test)` : ''}`);
  const root = rootOf(values, io);
  const loaded = await loadWeirConfig(root);
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    for (const d of errors) io.err(formatDiagnostic(d));
    io.err('weir: weir.yml has errors; fix them first (weir validate shows them)');
    return EXIT.usage;
  }
  const result = await sendTestNotification({ channel, channels: loaded.channels, policies: loaded.config }, { env: io.env, clock: { now: Date.now, sleep, random: Math.random } });
  if (values.json) io.out(JSON.stringify(result, null, 2));
  switch (result.kind) {
    case 'unknown':
      throw new UsageError(`channel '${channel}' is not defined in weir.yml${didYouMean(channel, result.known)}${result.known.length ? `; channels: ${result.known.join(', ')}` : '; add it under channels:'}`);
    case 'skipped':
      if (!values.json) io.err(`weir: channel '${channel}' cannot send: ${result.reason}`);
      return EXIT.usage;
    case 'failed':
      if (!values.json) io.err(`weir: test message to '${channel}' (${result.type}) failed after ${result.attempts} attempt${result.attempts === 1 ? '' : 's'}: ${result.message}`);
      return EXIT.failed;
    case 'sent':
      if (!values.json) io.out(`test message sent to '${channel}' (${result.type})${result.attempts > 1 ? ` after ${result.attempts} attempts` : ''}`);
      return EXIT.ok;
  }
}
