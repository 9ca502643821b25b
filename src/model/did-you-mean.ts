/**
 * "Did you mean …?" suggestions for misspelt names (stage names, kinds, fields, time zones).
 * Levenshtein distance, hand-written: twenty lines do not justify a dependency.
 */

/**
 * Edit distance between `a` and `b` where swapping two neighbours counts as one edit (optimal
 * string alignment: 'tabel' is one typo away from 'table'). Gives up, returning `limit + 1`, once
 * the distance exceeds `limit`, so scanning many candidates stays cheap.
 */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) current[j] = Math.min(current[j], before[j - 2] + 1);
      rowMin = Math.min(rowMin, current[j]);
    }
    if (rowMin > limit) return limit + 1;
    before = previous;
    previous = current;
  }
  return previous[b.length];
}

/**
 * The candidate closest to `input`, or undefined when none is close enough to be a plausible typo:
 * a case-only difference always counts; otherwise at most a third of the length may differ.
 */
export function suggest(input: string, candidates: Iterable<string>): string | undefined {
  const lower = input.toLowerCase();
  const limit = Math.max(1, Math.floor(input.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    if (candidate === input) continue;
    const candidateLower = candidate.toLowerCase();
    if (candidateLower === lower) return candidate;
    const distance = editDistance(lower, candidateLower, bestDistance - 1);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** ` (did you mean 'x'?)`, or '' when nothing is close: meant to be appended to a message. */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const suggestion = suggest(input, candidates);
  return suggestion === undefined ? '' : ` (did you mean '${suggestion}'?)`;
}
