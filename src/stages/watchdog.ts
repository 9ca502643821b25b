/**
 * Children that die with weir. A `command` child leads its own process group, so a timeout or a
 * cancel kills all it started; but a `kill -9` of weir runs no handler and would leave the group
 * running (holding GPUs, writing files). So the child is started through a tiny `sh` wrapper: it
 * forks a watcher into the group, then `exec`s the command (same pid, same group). The watcher
 * polls whether the command's parent is still weir and, once it is not, kills the whole group.
 *
 * Why a shell loop: prctl(PR_SET_PDEATHSIG) needs a native addon (no well-kept package offers it
 * for Node without a compiler), and a Node helper per command would cost a Node start-up (~40 ms)
 * and ~40 MB. /bin/sh is on every Linux and macOS runner; the loop forks one `sleep` per poll.
 * On Linux the parent is read from /proc (a dead weir that is still a zombie, or a reused pid,
 * does not fool it); elsewhere `kill -0` on weir's pid is the test.
 */

/** How often the watcher checks on weir, in seconds (a string: it goes to `sleep`). */
export const WATCHDOG_POLL_SECONDS = '0.5';

// $1: weir's pid; $2…: the command and its arguments. The watcher's stdio goes to /dev/null so it
// never holds the output pipes open; weir's own group kill (SIGTERM on exit/abort) ends it too.
const WATCHDOG_SCRIPT = `w=$1; shift
(
  exec </dev/null >/dev/null 2>&1
  if [ -r "/proc/$$/status" ]; then proc=1; else proc=; fi
  while :; do
    if [ -n "$proc" ]; then
      p=
      while read -r k v; do if [ "$k" = "PPid:" ]; then p=$v; break; fi; done < "/proc/$$/status" 2>/dev/null
      [ "$p" = "$w" ] || break
    else
      kill -0 "$w" 2>/dev/null || break
    fi
    sleep ${WATCHDOG_POLL_SECONDS}
  done
  kill -s KILL -- -$$ 2>/dev/null
) &
exec "$@"`;

/**
 * The file and arguments that run `file args…` under the watchdog, for spawn with `detached: true`
 * (the child must lead its group). On Windows (no process groups, no sh) the command runs as is.
 */
export function underWatchdog(file: string, args: readonly string[], parentPid: number = process.pid): [string, string[]] {
  if (process.platform === 'win32') return [file, [...args]];
  return ['/bin/sh', ['-c', WATCHDOG_SCRIPT, 'weir-watchdog', String(parentPid), file, ...args]];
}
