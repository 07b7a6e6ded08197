/**
 * One programmatic change = one undo step. Yjs merges changes less than half a second apart into
 * a single undo step, so a change we make right after the user typed would be undone together
 * with their typing: close the capture before and after.
 */
export function asOneUndoStep(sharedModel: any, change: () => void): void {
  endUndoStep(sharedModel);
  change();
  endUndoStep(sharedModel);
}

/** Close the shared model's current undo step: its next change starts a new one. */
export function endUndoStep(sharedModel: any): void {
  sharedModel?.undoManager?.stopCapturing?.();
}

/** The notebook's shared model as far as its undo goes (`YNotebook` from @jupyter/ydoc). */
type SharedNotebook = {
  transact(change: () => void): void;
  undoManager?: { stopCapturing(): void } | null;
};

/**
 * A change of several cells (sources, inserted and deleted cells) as one step of the notebook's
 * undo: "Undo Cell Operation", Z in command mode, what JupyterLab's own multi-cell operations
 * (merge, delete, paste) use. The notebook's Y.UndoManager covers the whole cells array, cell
 * contents included, and tracks the transactions whose origin is the notebook. `transact` gives
 * the change that origin, and the cells' own transactions nested in it keep it (Yjs keeps the
 * outermost origin), so the whole change is one stack item; undoing a deletion brings the cell's
 * Y.Map back whole, with its id, metadata and outputs.
 */
export function asOneNotebookUndoStep(notebook: SharedNotebook, change: () => void): void {
  asOneUndoStep(notebook, () => notebook.transact(change));
}
