/**
 * One programmatic change = one undo step. Yjs merges changes less than half a second apart into
 * a single undo step, so a change we make right after the user typed would be undone together
 * with their typing: close the capture before and after.
 */
export function asOneUndoStep(sharedModel: any, change: () => void): void {
  sharedModel?.undoManager?.stopCapturing?.();
  change();
  sharedModel?.undoManager?.stopCapturing?.();
}
