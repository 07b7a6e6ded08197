/**
 * A predicted cell source as changes to the current one. The models rewrite a region, and the
 * rename predictor rewrites every use of a name: trimming the common prefix and suffix gives one
 * replacement, which for `df.drop(...)\ny = df` would strike the whole span; a diff over tokens
 * inside it gives one hunk per place that changes, which is what the user should read.
 */
export type Change = { from: number; to: number; insert: string };

const TOKEN = /[A-Za-z_]\w*|\s+|[^]/g;
/** Above this many token pairs the token diff is skipped (one replacement is shown instead). */
const MAX_DIFF_CELLS = 250_000;

export function singleChange(before: string, after: string): Change | null {
  if (before === after) {
    return null;
  }
  let start = 0;
  const limit = Math.min(before.length, after.length);
  while (start < limit && before.charCodeAt(start) === after.charCodeAt(start)) {
    start++;
  }
  let endBefore = before.length;
  let endAfter = after.length;
  while (
    endBefore > start &&
    endAfter > start &&
    before.charCodeAt(endBefore - 1) === after.charCodeAt(endAfter - 1)
  ) {
    endBefore--;
    endAfter--;
  }
  return { from: start, to: endBefore, insert: after.slice(start, endAfter) };
}

/** `source` with `change` made. */
export function applyChange(source: string, change: Change): string {
  return source.slice(0, change.from) + change.insert + source.slice(change.to);
}

/** True when `change` only inserts text exactly at `offset` (shown as plain ghost text there). */
export function isInsertionAt(change: Change, offset: number): boolean {
  return change.from === change.to && change.from === offset;
}

/**
 * The change left after the user typed `typed` at `at`: the part of the suggestion still to come,
 * or null when the typing does not agree with the suggestion.
 */
export function consumeTyping(change: Change, at: number, typed: string): Change | null {
  if (at !== change.from || change.from !== change.to) {
    // Replacements keep their deletion range; only pure insertions can be typed through.
    return null;
  }
  if (!change.insert.startsWith(typed) || typed.length === 0) {
    return null;
  }
  const rest = change.insert.slice(typed.length);
  const next = change.from + typed.length;
  return rest ? { from: next, to: next, insert: rest } : null;
}

const WORD_CHAR = /\w/;

/**
 * `change` (common ends trimmed by characters) widened to whole words when it replaces text: `df`
 * → `data` trims to `f` → `ata`, which would strike a letter inside a name. A pure insertion
 * stays where it is, so that typing through ghost text at the cursor still works.
 */
function toWords(before: string, after: string, change: Change): Change {
  if (change.from === change.to || change.insert === '') {
    return change;
  }
  let { from, to } = change;
  while (from > 0 && WORD_CHAR.test(before[from - 1])) {
    from--;
  }
  // The common suffix is the same text in both: `to` and the replacement's end move together.
  let end = to + (after.length - before.length);
  while (to < before.length && WORD_CHAR.test(before[to])) {
    to++;
    end++;
  }
  return { from, to, insert: after.slice(from, end) };
}

/** The hunks that turn `before` into `after`, in order, non-overlapping (none when equal). */
export function hunks(before: string, after: string): Change[] {
  const trimmed = singleChange(before, after);
  if (!trimmed) {
    return [];
  }
  const outer = toWords(before, after, trimmed);
  const a = before.slice(outer.from, outer.to).match(TOKEN) ?? [];
  const b = outer.insert.match(TOKEN) ?? [];
  if (a.length === 0 || b.length === 0 || a.length * b.length > MAX_DIFF_CELLS) {
    return [outer];
  }
  // Longest common subsequence of tokens, from the end (lcs[i][j]: of a[i:] and b[j:]).
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const result: Change[] = [];
  let open: Change | null = null;
  let pos = outer.from;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      open = null;
      pos += a[i].length;
      i++;
      j++;
      continue;
    }
    if (!open) {
      open = { from: pos, to: pos, insert: '' };
      result.push(open);
    }
    if (j < b.length && (i === a.length || lcs[i][j + 1] >= lcs[i + 1][j])) {
      open.insert += b[j++];
    } else {
      pos += a[i].length;
      open.to = pos;
      i++;
    }
  }
  return result;
}

/** `source` with every hunk made (hunks as `hunks` returns them). */
export function applyHunks(source: string, changes: ReadonlyArray<Change>): string {
  let result = source;
  for (let k = changes.length - 1; k >= 0; k--) {
    result = applyChange(result, changes[k]);
  }
  return result;
}
