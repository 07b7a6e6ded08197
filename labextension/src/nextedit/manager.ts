/**
 * The next-edit client: one per application. It keeps each open document's recent edits, sends at
 * most one request per document (a newer one cancels the older), and routes each predicted edit:
 * an insertion right at the cursor goes to JupyterLab's inline completer as ghost text; any other
 * edit (elsewhere in the cell, or in another cell) is drawn as an inline diff that Tab jumps to and
 * Tab again accepts, as one undo step. Escape dismisses.
 */
import { Widget } from '@lumino/widgets';

import { CursorConnection, RequestCancelled } from '../connection';
import { DiffStyle, setSuggestion, shownSuggestion } from './decorations';
import { Change, consumeTyping, isInsertionAt, singleChange } from './diff';
import { EditHistory } from './events';
import { IEditTarget, WireCell } from './targets';

export type NextEditSettings = {
  enabled: boolean;
  trigger: 'typing' | 'manual';
  debounceMs: number;
  diffStyle: DiffStyle;
};

export const DEFAULT_SETTINGS: NextEditSettings = {
  enabled: true,
  trigger: 'typing',
  debounceMs: 60,
  diffStyle: 'inline'
};

type WireEdit = { cell_id: string; source: string };
type WirePrediction = { edits?: WireEdit[]; [key: string]: unknown };

/** What the inline completer shows: ghost text at the cursor, or nothing. */
export type InlineUpdate = { text: string | null; final: boolean };

type Pending = { cellId: string; change: Change };

const MOD_CLASS = 'jp-mod-cursorNextEdit';
const TARGET_CLASS = 'jp-mod-cursorNextEdit-target';
const MARKER_TEXT = 'Tab ⇥';

class DocumentState {
  constructor(readonly target: IEditTarget) {
    for (const cell of target.cells()) {
      this.history.observe(cell.id, cell.source);
    }
  }

  history = new EditHistory();
  inflight: string | null = null;
  pending: Pending[] = [];
  inline: { cellId: string; change: Change } | null = null;
  debounceTimer = 0;
  debounceResolve: ((go: boolean) => void) | null = null;
}

export class NextEditManager {
  constructor(private readonly connection: CursorConnection) {}

  settings: NextEditSettings = { ...DEFAULT_SETTINGS };

  /** Start following a document; returns its state (created once). */
  track(target: IEditTarget): void {
    if (this._docs.has(target.widget)) {
      return;
    }
    const doc = new DocumentState(target);
    this._docs.set(target.widget, doc);
    target.sourceChanged.connect((_, { cellId, source }) => {
      doc.history.record(cellId, source);
      this._syncPending(doc, cellId);
    });
    target.widget.disposed.connect(() => {
      this._cancelInflight(doc);
      target.dispose();
      this._docs.delete(target.widget);
    });
  }

  isTracked(widget: Widget): boolean {
    return this._docs.has(widget);
  }

  /** The edits currently drawn in `widget`, for tests and the UI. */
  pendingFor(widget: Widget): ReadonlyArray<Pending> {
    return this._docs.get(widget)?.pending ?? [];
  }

  /**
   * Called by the inline completion provider on each keystroke: decide whether to ask the
   * server, and yield what the inline completer should show while the answer streams in.
   */
  async *predict(
    widget: Widget,
    offset: number,
    manual: boolean
  ): AsyncGenerator<InlineUpdate> {
    const doc = this._docs.get(widget);
    if (!doc || !this.settings.enabled || (this.settings.trigger === 'manual' && !manual)) {
      return;
    }
    const cellId = doc.target.activeCellId();
    if (!cellId || doc.target.cellType(cellId) !== 'code') {
      return;
    }
    // Typing that agrees with what is shown keeps it, without a new request.
    const kept = this._agreeingInline(doc, cellId, offset);
    if (kept !== null) {
      yield { text: kept, final: true };
      return;
    }
    if (doc.pending.length > 0 && !manual) {
      return;
    }
    if (!(await this._debounce(doc))) {
      return;
    }
    yield* this._request(doc, cellId, offset);
  }

  /** Tab: jump to the nearest shown edit, or accept it when the cursor is already there. */
  async tab(widget: Widget | null): Promise<boolean> {
    const doc = widget ? this._docs.get(widget) : undefined;
    if (!doc || doc.pending.length === 0) {
      return false;
    }
    const activeId = doc.target.activeCellId();
    const here = doc.pending.find(p => p.cellId === activeId);
    const editor = activeId ? doc.target.editor(activeId) : null;
    if (here && editor) {
      const shown = shownSuggestion(editor.editor);
      const cursor = editor.editor.state.selection.main.head;
      if (shown && cursor >= shown.change.from && cursor <= shown.change.to) {
        this._accept(doc, here);
        return true;
      }
      if (shown) {
        editor.editor.dispatch({ selection: { anchor: shown.change.from } });
        editor.focus();
        return true;
      }
    }
    const next = here ?? doc.pending[0];
    const revealed = await doc.target.reveal(next.cellId);
    if (revealed) {
      this._draw(doc, next);
      revealed.editor.dispatch({ selection: { anchor: next.change.from } });
    }
    return true;
  }

  /** Escape: drop every edit shown in the document. */
  dismiss(widget: Widget | null): boolean {
    const doc = widget ? this._docs.get(widget) : undefined;
    if (!doc || doc.pending.length === 0) {
      return false;
    }
    this._clear(doc);
    return true;
  }

  // -- requests ----------------------------------------------------------------------------------

  private _debounce(doc: DocumentState): Promise<boolean> {
    window.clearTimeout(doc.debounceTimer);
    doc.debounceResolve?.(false);
    return new Promise(resolve => {
      doc.debounceResolve = resolve;
      doc.debounceTimer = window.setTimeout(() => {
        doc.debounceResolve = null;
        resolve(true);
      }, this.settings.debounceMs);
    });
  }

  private async *_request(
    doc: DocumentState,
    cellId: string,
    offset: number
  ): AsyncGenerator<InlineUpdate> {
    this._cancelInflight(doc);
    const cells = doc.target.cells();
    const snapshot = new Map(cells.map(cell => [cell.id, cell.source]));
    const updates: { data: WirePrediction; final: boolean }[] = [];
    let wake: (() => void) | null = null;
    let finished = false;
    const push = (data: WirePrediction, final: boolean) => {
      updates.push({ data, final });
      wake?.();
    };
    const { id, result } = this.connection.request<WirePrediction>(
      'nextedit',
      {
        path: doc.target.path,
        cells: cells as WireCell[],
        cursor: { cell_id: cellId, offset },
        events: doc.history.events
      },
      data => push(data, false)
    );
    doc.inflight = id;
    result
      .then(data => push(data, true))
      .catch(error => {
        if (!(error instanceof RequestCancelled)) {
          console.warn('jupyter_cursor: next-edit request failed:', error.message);
        }
      })
      .finally(() => {
        finished = true;
        if (doc.inflight === id) {
          doc.inflight = null;
        }
        wake?.();
      });

    while (true) {
      if (updates.length === 0) {
        if (finished) {
          return;
        }
        await new Promise<void>(resolve => (wake = resolve));
        wake = null;
        continue;
      }
      const { data, final } = updates.shift()!;
      if (doc.inflight !== id && !final) {
        return; // replaced by a newer request
      }
      yield this._show(doc, cellId, offset, snapshot, data.edits ?? [], final);
      if (final) {
        return;
      }
    }
  }

  private _cancelInflight(doc: DocumentState): void {
    if (doc.inflight) {
      this.connection.cancel(doc.inflight);
      doc.inflight = null;
    }
  }

  // -- showing -----------------------------------------------------------------------------------

  /** Route predicted edits: one insertion at the cursor becomes ghost text, others are drawn. */
  private _show(
    doc: DocumentState,
    cellId: string,
    offset: number,
    snapshot: Map<string, string>,
    edits: WireEdit[],
    final: boolean
  ): InlineUpdate {
    const current = new Map(doc.target.cells().map(cell => [cell.id, cell.source]));
    const changes: Pending[] = [];
    for (const edit of edits) {
      const before = snapshot.get(edit.cell_id);
      // An edit for a cell that has changed since the request (or is gone) is stale.
      if (before === undefined || current.get(edit.cell_id) !== before) {
        continue;
      }
      const change = singleChange(before, edit.source);
      if (change) {
        changes.push({ cellId: edit.cell_id, change });
      }
    }
    const inline = changes.find(c => c.cellId === cellId && isInsertionAt(c.change, offset));
    this._clear(doc);
    if (inline) {
      doc.inline = inline;
      return { text: inline.change.insert, final };
    }
    doc.inline = null;
    doc.pending = changes;
    for (const pending of changes) {
      this._draw(doc, pending);
    }
    this._updateMarkers(doc);
    return { text: null, final };
  }

  private _agreeingInline(doc: DocumentState, cellId: string, offset: number): string | null {
    const inline = doc.inline;
    if (!inline || inline.cellId !== cellId) {
      return null;
    }
    const source = doc.target.cells().find(c => c.id === cellId)?.source ?? '';
    const typed = source.slice(inline.change.from, offset);
    const rest = offset > inline.change.from ? consumeTyping(inline.change, inline.change.from, typed) : null;
    if (!rest) {
      doc.inline = null;
      return null;
    }
    return rest.insert;
  }

  private _draw(doc: DocumentState, pending: Pending): void {
    const editor = doc.target.editor(pending.cellId);
    editor?.editor.dispatch({
      effects: setSuggestion.of({ change: pending.change, style: this.settings.diffStyle })
    });
  }

  /** After the user typed in a cell: keep what the typing agreed with, drop the rest. */
  private _syncPending(doc: DocumentState, cellId: string): void {
    const index = doc.pending.findIndex(p => p.cellId === cellId);
    if (index < 0) {
      return;
    }
    const editor = doc.target.editor(cellId);
    const shown = editor ? shownSuggestion(editor.editor) : null;
    if (shown) {
      doc.pending[index] = { cellId, change: shown.change };
    } else {
      doc.pending.splice(index, 1);
    }
    this._updateMarkers(doc);
  }

  private _accept(doc: DocumentState, pending: Pending): void {
    doc.pending = doc.pending.filter(p => p !== pending);
    const editor = doc.target.editor(pending.cellId);
    editor?.editor.dispatch({ effects: setSuggestion.of(null) });
    const { from, to, insert } = pending.change;
    doc.target.applyChange(pending.cellId, from, to, insert);
    editor?.editor.dispatch({ selection: { anchor: from + insert.length } });
    this._updateMarkers(doc);
  }

  private _clear(doc: DocumentState): void {
    for (const pending of doc.pending) {
      doc.target.editor(pending.cellId)?.editor.dispatch({ effects: setSuggestion.of(null) });
    }
    doc.pending = [];
    this._updateMarkers(doc);
  }

  private _updateMarkers(doc: DocumentState): void {
    const targets = new Set(doc.pending.map(p => p.cellId));
    doc.target.modNode.classList.toggle(MOD_CLASS, targets.size > 0);
    for (const cell of doc.target.cells()) {
      const node = doc.target.cellNode(cell.id);
      if (node && node !== doc.target.modNode) {
        node.classList.toggle(TARGET_CLASS, targets.has(cell.id));
        if (targets.has(cell.id)) {
          node.dataset.cursorNextEdit = MARKER_TEXT;
        } else {
          delete node.dataset.cursorNextEdit;
        }
      }
    }
  }

  private _docs = new Map<Widget, DocumentState>();
}
