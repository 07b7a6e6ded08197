/**
 * The DOM side of the suggestions shown in a document, besides each editor's own decoration of
 * its suggestion (decorations.ts): the marker class on the document, which the Tab and Escape
 * shortcuts select on; a marker on each cell that has a suggestion ("Tab ⇥", a file editor's
 * one cell being the editor itself); and the jump hint at the cursor while every suggestion is in
 * another cell.
 */
import { setJumpHint } from './decorations';
import { Change } from './diff';
import { IEditTarget } from './targets';

/** The longest suggested text a jump hint quotes. */
const HINT_CHARS = 40;

const MOD_CLASS = 'jp-mod-cursorNextEdit';
const TARGET_CLASS = 'jp-mod-cursorNextEdit-target';
const MARKER_TEXT = 'Tab ⇥';

/** What the markers need of a shown suggestion: its cell and what it inserts there. */
export type MarkedSuggestion = { readonly cellId: string; readonly hunks: ReadonlyArray<Change> };

/** The markers and the jump hint of one document. */
export class SuggestionMarkers {
  constructor(private readonly target: IEditTarget) {}

  /**
   * Mark the cells of `shown` (in order: the first is where Tab goes) and unmark the others.
   * `editing` is the cell whose edit we are called from: its editor is in the middle of an
   * update, where a dispatch throws, and its jump hint has already gone with the edit.
   */
  update(shown: ReadonlyArray<MarkedSuggestion>, editing?: string): void {
    this._updateHint(shown, editing);
    const target = this.target;
    const cells = new Set(shown.map(s => s.cellId));
    target.modNode.classList.toggle(MOD_CLASS, cells.size > 0);
    for (const cell of target.cells()) {
      const node = target.cellNode(cell.id);
      if (node) {
        node.classList.toggle(TARGET_CLASS, cells.has(cell.id));
        if (cells.has(cell.id)) {
          node.dataset.cursorNextEdit = MARKER_TEXT;
        } else {
          delete node.dataset.cursorNextEdit;
        }
      }
    }
  }

  /** The jump hint at the cursor: shown while every suggestion is in another cell. */
  private _updateHint(shown: ReadonlyArray<MarkedSuggestion>, editing?: string): void {
    const target = this.target;
    const active = target.activeCellId();
    const next = shown[0];
    let hint: string | null = null;
    if (active && next && !shown.some(s => s.cellId === active)) {
      const ids = target.cells().map(cell => cell.id);
      const arrow = ids.indexOf(next.cellId) < ids.indexOf(active) ? '↑' : '↓';
      hint = jumpHint(next, arrow);
    }
    const hintCell = hint ? active : null;
    if (this._hintCell && this._hintCell !== hintCell && this._hintCell !== editing) {
      target.editor(this._hintCell)?.editor.dispatch({ effects: setJumpHint.of(null) });
    }
    if (hint && hintCell && hintCell !== editing) {
      target.editor(hintCell)?.editor.dispatch({ effects: setJumpHint.of(hint) });
    }
    this._hintCell = hintCell;
  }

  /** The cell whose editor shows the jump hint. */
  private _hintCell: string | null = null;
}

/** "Tab ⇥ ↑ import pandas as pd": the key, the way, and the first line the suggestion writes. */
function jumpHint(next: MarkedSuggestion, arrow: string): string {
  const text =
    next.hunks
      .map(h => h.insert)
      .join('\n')
      .split('\n')
      .map(line => line.trim())
      .find(line => line) ?? '';
  const quoted = text.length > HINT_CHARS ? `${text.slice(0, HINT_CHARS - 1)}…` : text;
  return `${MARKER_TEXT} ${arrow} ${quoted}`.trimEnd();
}
