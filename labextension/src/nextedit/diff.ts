/**
 * A predicted cell source as a change to the current one: the smallest single replacement
 * (common prefix and suffix trimmed), which is what the next-edit models produce: one hunk.
 */
export type Change = { from: number; to: number; insert: string };

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
