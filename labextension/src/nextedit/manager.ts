/**
 * The next-edit client: one per application. It follows every edit of each open document (not
 * only the keystrokes that JupyterLab's inline completer reacts to: that one skips edits in the
 * middle of a line, which is where renames happen), coalesces them into events, debounces, and
 * keeps at most one request in flight per document (a newer one cancels the older).
 *
 * Each predicted edit is routed: an insertion right at the cursor goes to JupyterLab's inline
 * completer as ghost text when the completer asked for it (see provider.ts); any other edit
 * (elsewhere in the cell, or in another cell) is drawn as an inline diff that Tab jumps to and
 * Tab again accepts, as one undo step. Escape dismisses. Typing that agrees with a shown
 * suggestion keeps it without a new request; any other edit drops every suggestion of the
 * document, since they were predicted from a text that no longer holds.
 */
import { Text } from '@jupyterlab/coreutils';
import { Widget } from '@lumino/widgets';

import { CursorConnection, RequestCancelled } from '../connection';
import { ExecutionError, NextEditPrediction, Outcome } from '../protocol';
import { InlineUpdate, UpdateChannel } from './channel';
import { DiffStyle, setSuggestion, shownSuggestion } from './decorations';
import { Change, applyHunks, consumeTyping, hunks, isInsertionAt } from './diff';
import { EditHistory } from './events';
import { SuggestionMarkers } from './markers';
import { OutcomeReporter } from './outcomes';
import { IEditTarget, UndoKind } from './targets';

export type NextEditSettings = {
  enabled: boolean;
  trigger: 'typing' | 'manual';
  debounceMs: number;
  diffStyle: DiffStyle;
  /** Ghost text at the cursor only once the line has this many characters before it. */
  completionMinChars: number;
};

export const DEFAULT_SETTINGS: NextEditSettings = {
  enabled: true,
  trigger: 'typing',
  debounceMs: 60,
  diffStyle: 'inline',
  completionMinChars: 2
};

/**
 * A suggestion shown in one cell: its hunks, in order, in `source` (the cell's text).
 * `returnAfter`: once Tab has taken the user there and accepted it, the cursor goes back to where
 * they were (an import is made in the imports cell, for the line that needed it).
 */
type Pending = {
  cellId: string;
  hunks: Change[];
  source: string;
  requestId: string;
  returnAfter: boolean;
};

/** One request: scheduled (debouncing), then in flight, then done. */
class Prediction {
  constructor(
    readonly cellId: string,
    /** The cursor, as a JavaScript string index into the cell's text. */
    readonly offset: number
  ) {}

  id: string | null = null;
  timer = 0;
  /** The cell's execution failed: the request asks for its fix. */
  error: ExecutionError | null = null;
  inline: UpdateChannel | null = null;
  snapshot = new Map<string, string>();
}

class DocumentState {
  constructor(readonly target: IEditTarget) {
    for (const cell of target.cells()) {
      this.history.observe(cell.id, cell.source);
    }
  }

  history = new EditHistory();
  /** The cell markers and the jump hint. */
  readonly markers = new SuggestionMarkers(this.target);
  /** The request scheduled or in flight (at most one per document). */
  prediction: Prediction | null = null;
  pending: Pending[] = [];
  /** Ghost text shown by the inline completer for the last prediction. */
  inline: Pending | null = null;
  /** Set while we apply an accepted edit, so that it is not taken for the user's typing. */
  applying = false;
  /** The last accepted edit, to recognise its undo (which must not predict the reverse). */
  accepted: { cellId: string; before: string; after: string } | null = null;
  /** Where the user was when Tab took them to a suggestion that sends them back. */
  origin: { cellId: string; offset: number } | null = null;
  /**
   * The changes of the suggestions the user dismissed with Escape (see `changeKeys`): the same
   * suggestion is not shown again (it comes back, for instance, when the typing that follows is
   * merged into the same edit event, or after an undo, on a text that no longer has the edit it
   * continued). Oldest first, at most REJECTED_KEPT.
   */
  rejected: string[] = [];
}

const REJECTED_KEPT = 100;

/**
 * One key per hunk: the cell, and the hunk's lines before and after it. A suggestion whose every
 * hunk was dismissed is the dismissed one, whatever changed elsewhere in the cell since: after an
 * undo of the rename it continued, `return data.dropna()` → `return frame.dropna()` would leave
 * the cell with a NameError.
 */
function changeKeys(cellId: string, source: string, changes: ReadonlyArray<Change>): string[] {
  return changes.map(change => {
    const start = source.lastIndexOf('\n', change.from - 1) + 1;
    const newline = source.indexOf('\n', change.to);
    const end = newline < 0 ? source.length : newline;
    const after = source.slice(start, change.from) + change.insert + source.slice(change.to, end);
    return [cellId, source.slice(start, end), after].join('\u0000');
  });
}

export class NextEditManager {
  constructor(private readonly connection: CursorConnection) {}

  settings: NextEditSettings = { ...DEFAULT_SETTINGS };

  /** Start following a document (once). */
  track(target: IEditTarget): void {
    if (this._docs.has(target.widget)) {
      return;
    }
    const doc = new DocumentState(target);
    this._docs.set(target.widget, doc);
    target.sourceChanged.connect((_, { cellId, source, undo }) =>
      this._onEdit(doc, cellId, source, undo)
    );
    target.widget.disposed.connect(() => {
      this._cancel(doc);
      this._clear(doc, 'ignored');
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

  /** The outcomes reported so far (newest last), for tests. */
  get outcomes(): ReadonlyArray<{ request_id: string; outcome: Outcome }> {
    return this._outcomes.outcomes;
  }

  /**
   * Called by the inline completion provider: the ghost text to show at `offset` (a character
   * index, as the completer counts) while the prediction for the keystroke that triggered it
   * streams in. A manual request (Alt+\) asks the server at once.
   */
  async *inlineCompletion(
    widget: Widget,
    offset: number,
    manual: boolean
  ): AsyncGenerator<InlineUpdate> {
    // The completer is called from the same text change we follow; let ours run first.
    await new Promise(resolve => window.setTimeout(resolve, 0));
    const doc = this._docs.get(widget);
    if (!doc || !this.settings.enabled) {
      return;
    }
    const cellId = doc.target.activeCellId();
    if (!cellId || doc.target.cellType(cellId) !== 'code') {
      return;
    }
    const source = doc.target.cells().find(c => c.id === cellId)?.source ?? '';
    const at = Text.charIndexToJsIndex(offset, source);
    const inline = doc.inline;
    if (inline && inline.cellId === cellId && inline.hunks[0].from === at) {
      // Typing that agreed with the ghost text: the rest of it, without a new request.
      yield { text: inline.hunks[0].insert, final: true };
      return;
    }
    if (manual) {
      this._clear(doc, 'ignored');
      this._schedule(doc, cellId, 0);
    }
    const prediction = doc.prediction;
    if (!prediction || prediction.cellId !== cellId || prediction.offset !== at) {
      return;
    }
    prediction.inline?.close();
    prediction.inline = new UpdateChannel();
    yield* prediction.inline.updates();
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
    // Where the user is: the place a `returnAfter` suggestion sends them back to.
    const origin =
      activeId && editor
        ? { cellId: activeId, offset: editor.editor.state.selection.main.head }
        : null;
    if (here && editor && origin) {
      const first = here.hunks[0];
      const last = here.hunks[here.hunks.length - 1];
      if (origin.offset >= first.from && origin.offset <= last.to) {
        this._accept(doc, here);
      } else {
        doc.origin = here.returnAfter ? origin : null;
        editor.editor.dispatch({ selection: { anchor: first.from }, scrollIntoView: true });
        editor.focus();
      }
      return true;
    }
    const next = doc.pending[0];
    doc.origin = next.returnAfter ? origin : null;
    const revealed = await doc.target.reveal(next.cellId);
    if (revealed) {
      this._draw(doc, next);
      revealed.editor.dispatch({ selection: { anchor: next.hunks[0].from }, scrollIntoView: true });
    }
    this._updateMarkers(doc);
    return true;
  }

  /**
   * A cell of the document failed: ask for its fix (kernel/fix.py on the server), shown in the
   * cell as any next edit is, Tab to go there and accept it. Nothing runs until the user does.
   */
  requestFix(widget: Widget, cellId: string, error: ExecutionError): void {
    const doc = this._docs.get(widget);
    if (!doc || !this.settings.enabled) {
      return;
    }
    this._cancel(doc);
    this._clear(doc, 'ignored');
    const prediction = new Prediction(cellId, 0);
    prediction.error = {
      ename: error.ename.slice(0, 200),
      evalue: error.evalue.slice(0, 4000),
      traceback: error.traceback.slice(-50).map(line => line.slice(0, 4000))
    };
    doc.prediction = prediction;
    this._send(doc, prediction);
  }

  /** Escape: drop every edit shown in the document. */
  dismiss(widget: Widget | null): boolean {
    const doc = widget ? this._docs.get(widget) : undefined;
    if (!doc || doc.pending.length === 0) {
      return false;
    }
    for (const pending of doc.pending) {
      doc.rejected.push(...changeKeys(pending.cellId, pending.source, pending.hunks));
    }
    doc.rejected.splice(0, doc.rejected.length - REJECTED_KEPT);
    this._clear(doc, 'rejected');
    return true;
  }

  // -- following edits ---------------------------------------------------------------------------

  private _onEdit(doc: DocumentState, cellId: string, source: string, undo?: UndoKind): void {
    if (doc.applying) {
      return; // _accept records it
    }
    const accepted = doc.accepted;
    doc.accepted = null;
    if (undo || (accepted && accepted.cellId === cellId && accepted.before === source)) {
      // An undo or redo (or the undo of an accepted suggestion) is no edit of the user's: the
      // undone edit never happened, and predicting from it would propose its reverse (or bring
      // back a suggestion the user dismissed).
      doc.history.undoLast(cellId, source, undo === 'redo');
      this._cancel(doc);
      this._clear(doc, 'ignored', cellId);
      return;
    }
    if (this._acceptedInline(doc, cellId, source)) {
      return;
    }
    doc.history.record(cellId, source);
    if (this._agrees(doc, cellId, source)) {
      return;
    }
    this._cancel(doc);
    this._clear(doc, 'ignored', cellId);
    if (
      this.settings.enabled &&
      this.settings.trigger === 'typing' &&
      doc.target.activeCellId() === cellId &&
      doc.target.cellType(cellId) === 'code'
    ) {
      this._schedule(doc, cellId, this.settings.debounceMs);
    }
  }

  /** True when the edit of `cellId` typed (part of) a shown suggestion, which stays shown. */
  private _agrees(doc: DocumentState, cellId: string, source: string): boolean {
    const inline = doc.inline;
    if (inline && inline.cellId === cellId) {
      const ghost = inline.hunks[0];
      const typed = source.length - inline.source.length;
      const rest =
        typed > 0 &&
        source.slice(0, ghost.from) === inline.source.slice(0, ghost.from) &&
        source.slice(ghost.from + typed) === inline.source.slice(ghost.from)
          ? consumeTyping(ghost, ghost.from, source.slice(ghost.from, ghost.from + typed))
          : null;
      if (rest) {
        doc.inline = { ...inline, hunks: [rest], source };
        // Tab right after this keystroke accepts the rest as an undo step of its own.
        this._closeUndoStepSoon(doc, cellId);
        return true;
      }
      doc.inline = null;
      return false;
    }
    const index = doc.pending.findIndex(p => p.cellId === cellId);
    if (index < 0) {
      return false;
    }
    const pending = doc.pending[index];
    const editor = doc.target.editor(cellId);
    const shown = editor ? shownSuggestion(editor.editor) : null;
    if (shown) {
      // The decoration consumed the typing (see decorations.ts): keep what is left of it.
      doc.pending[index] = { ...pending, hunks: shown.hunks, source };
      return true;
    }
    if (applyHunks(pending.source, pending.hunks) === source) {
      // The user typed the whole suggestion themselves.
      this._report(pending, 'accepted');
      doc.pending.splice(index, 1);
      this._updateMarkers(doc, cellId);
      return true;
    }
    return false;
  }

  /**
   * True when the edit is the inline completer accepting the ghost text shown at the cursor (Tab,
   * or its toolbar): as for a suggestion accepted by `_accept`, it is an event of its own and one
   * undo step (`_show` closed the step of the typing before it; here the step of the acceptance
   * is closed, so that typing right after it is not undone with it), its undo is not predicted
   * again, and the next place of the same edit is asked for. Typing the last letter of the
   * ghost text counts the same.
   */
  private _acceptedInline(doc: DocumentState, cellId: string, source: string): boolean {
    const inline = doc.inline;
    if (!inline || inline.cellId !== cellId || applyHunks(inline.source, inline.hunks) !== source) {
      return false;
    }
    doc.inline = null;
    doc.history.record(cellId, source, Date.now(), true);
    doc.accepted = { cellId, before: inline.source, after: source };
    this._closeUndoStepSoon(doc, cellId);
    this._report(inline, 'accepted');
    this._cancel(doc);
    this._clear(doc, 'ignored', cellId);
    if (this.settings.enabled && this.settings.trigger === 'typing') {
      this._schedule(doc, cellId, this.settings.debounceMs);
    }
    return true;
  }

  /**
   * Close the cell's undo step once the change being made now is recorded by Yjs (after its
   * observers, which call us, in the same task). A microtask, not a timer: the browser may run
   * the next keystroke (Tab) before a timer.
   */
  private _closeUndoStepSoon(doc: DocumentState, cellId: string): void {
    queueMicrotask(() => doc.target.closeUndoStep(cellId));
  }

  // -- requests ----------------------------------------------------------------------------------

  private _schedule(doc: DocumentState, cellId: string, delay: number): void {
    const editor = doc.target.editor(cellId);
    const offset = editor ? editor.editor.state.selection.main.head : 0;
    const prediction = new Prediction(cellId, offset);
    doc.prediction = prediction;
    prediction.timer = window.setTimeout(() => this._send(doc, prediction), delay);
  }

  private _send(doc: DocumentState, prediction: Prediction): void {
    if (doc.prediction !== prediction) {
      return;
    }
    const cells = doc.target.cells();
    prediction.snapshot = new Map(cells.map(cell => [cell.id, cell.source]));
    const source = prediction.snapshot.get(prediction.cellId) ?? '';
    const { id, result } = this.connection.request(
      'nextedit',
      {
        path: doc.target.path,
        language: doc.target.language(),
        cells,
        cursor: {
          cell_id: prediction.cellId,
          offset: Text.jsIndexToCharIndex(prediction.offset, source)
        },
        events: doc.history.events,
        ...(prediction.error ? { error: prediction.error } : {})
      },
      data => this._show(doc, prediction, data, false)
    );
    prediction.id = id;
    result
      .then(data => this._show(doc, prediction, data, true))
      .catch(error => {
        if (!(error instanceof RequestCancelled)) {
          console.warn('jupyter_cursor: next-edit request failed:', error.message);
        }
      })
      .finally(() => {
        prediction.inline?.close();
        if (doc.prediction === prediction) {
          doc.prediction = null;
        }
      });
  }

  /** Drop the scheduled or in-flight request of the document. */
  private _cancel(doc: DocumentState): void {
    const prediction = doc.prediction;
    doc.prediction = null;
    if (!prediction) {
      return;
    }
    window.clearTimeout(prediction.timer);
    prediction.inline?.close();
    if (prediction.id) {
      this.connection.cancel(prediction.id);
    }
  }

  // -- showing -----------------------------------------------------------------------------------

  /** Show a (partial or final) answer: it replaces whatever the previous one showed. */
  private _show(
    doc: DocumentState,
    prediction: Prediction,
    data: NextEditPrediction,
    final: boolean
  ): void {
    if (doc.prediction !== prediction) {
      return; // replaced by a newer request
    }
    const current = new Map(doc.target.cells().map(cell => [cell.id, cell.source]));
    const changes: Pending[] = [];
    for (const edit of data.edits ?? []) {
      const before = prediction.snapshot.get(edit.cell_id);
      // An edit for a cell that has changed since the request (or is gone) is stale.
      if (before === undefined || current.get(edit.cell_id) !== before) {
        continue;
      }
      const found = hunks(before, edit.source);
      // One the user has dismissed stays dismissed.
      const dismissed = changeKeys(edit.cell_id, before, found).every(key =>
        doc.rejected.includes(key)
      );
      if (found.length > 0 && !dismissed) {
        changes.push({
          cellId: edit.cell_id,
          hunks: found,
          source: before,
          requestId: prediction.id!,
          returnAfter: data.returns_cursor === true
        });
      }
    }
    let atCursor = prediction.inline
      ? changes.find(
          c =>
            c.cellId === prediction.cellId &&
            c.hunks.length === 1 &&
            isInsertionAt(c.hunks[0], prediction.offset)
        )
      : undefined;
    if (
      atCursor &&
      typedOnLine(atCursor.source, prediction.offset) < this.settings.completionMinChars
    ) {
      // Too early in the line for the user's taste: no ghost text (settings: completionMinChars).
      changes.splice(changes.indexOf(atCursor), 1);
      atCursor = undefined;
    }
    this._clear(doc, null);
    doc.inline = atCursor ?? null;
    if (atCursor) {
      // The completer may accept the ghost text at once: not as part of the typing before it.
      doc.target.closeUndoStep(atCursor.cellId);
    }
    prediction.inline?.push({ text: atCursor?.hunks[0].insert ?? null, final });
    doc.pending = changes.filter(c => c !== atCursor);
    for (const pending of doc.pending) {
      this._draw(doc, pending);
    }
    this._updateMarkers(doc);
  }

  private _draw(doc: DocumentState, pending: Pending): void {
    const effects = setSuggestion.of({ hunks: pending.hunks, style: this.settings.diffStyle });
    const editor = doc.target.editor(pending.cellId);
    if (editor) {
      editor.editor.dispatch({ effects });
      return;
    }
    // A cell a windowed notebook has not rendered yet: draw when it is, if still suggested.
    void doc.target.editorReady(pending.cellId).then(ready => {
      if (ready && doc.pending.includes(pending) && !shownSuggestion(ready.editor)) {
        ready.editor.dispatch({ effects });
      }
    });
  }

  private _accept(doc: DocumentState, pending: Pending): void {
    doc.pending = doc.pending.filter(p => p !== pending);
    const editor = doc.target.editor(pending.cellId);
    editor?.editor.dispatch({ effects: setSuggestion.of(null) });
    const before = doc.target.cells().find(c => c.id === pending.cellId)?.source ?? '';
    doc.applying = true;
    try {
      doc.target.applyChanges(pending.cellId, pending.hunks);
    } finally {
      doc.applying = false;
    }
    const after = doc.target.cells().find(c => c.id === pending.cellId)?.source ?? '';
    doc.history.record(pending.cellId, after, Date.now(), true);
    doc.accepted = { cellId: pending.cellId, before, after };
    // The cursor after the last inserted text.
    const last = pending.hunks[pending.hunks.length - 1];
    editor?.editor.dispatch({ selection: { anchor: last.to + after.length - before.length } });
    this._report(pending, 'accepted');
    this._updateMarkers(doc);
    const origin = pending.returnAfter ? doc.origin : null;
    doc.origin = null;
    if (origin) {
      void this._returnTo(doc, origin, pending, after.length - before.length);
      return;
    }
    // Tab, Tab, Tab: with nothing left to show, ask where the same edit goes next.
    if (doc.pending.length === 0 && this.settings.enabled && this.settings.trigger === 'typing') {
      this._schedule(doc, pending.cellId, this.settings.debounceMs);
    }
  }

  /** Back where the user was; in the accepted cell itself, past the text it inserted above. */
  private async _returnTo(
    doc: DocumentState,
    origin: { cellId: string; offset: number },
    accepted: Pending,
    grew: number
  ): Promise<void> {
    const editor = await doc.target.reveal(origin.cellId);
    if (editor) {
      const above = origin.cellId === accepted.cellId && accepted.hunks[0].from <= origin.offset;
      const offset = origin.offset + (above ? grew : 0);
      const anchor = Math.min(offset, editor.editor.state.doc.length);
      editor.editor.dispatch({ selection: { anchor }, scrollIntoView: true });
    }
  }

  /**
   * Remove every shown suggestion; `outcome` is what to report for each (null: nothing).
   * `editing` is the cell whose edit we are called from: its editor is in the middle of an
   * update, where a dispatch throws, and its decoration field has already dropped what the edit
   * disagreed with (decorations.ts).
   */
  private _clear(doc: DocumentState, outcome: Outcome | null, editing?: string): void {
    for (const pending of doc.pending) {
      if (pending.cellId !== editing) {
        doc.target.editor(pending.cellId)?.editor.dispatch({ effects: setSuggestion.of(null) });
      }
      if (outcome) {
        this._report(pending, outcome);
      }
    }
    doc.pending = [];
    doc.inline = null;
    doc.origin = null;
    this._updateMarkers(doc, editing);
  }

  /** Tell the server how a suggestion ended (once per request: see outcomes.ts). */
  private _report(pending: Pending, outcome: Outcome): void {
    this._outcomes.report(pending.requestId, outcome);
  }

  /** The cell markers and the jump hint; `editing`: as for `_clear`. */
  private _updateMarkers(doc: DocumentState, editing?: string): void {
    doc.markers.update(doc.pending, editing);
  }

  private _docs = new Map<Widget, DocumentState>();
  private _outcomes = new OutcomeReporter(this.connection);
}

/** The characters other than spaces on the line of `offset`, before it. */
function typedOnLine(source: string, offset: number): number {
  const start = source.lastIndexOf('\n', offset - 1) + 1;
  return source.slice(start, offset).replace(/\s/g, '').length;
}
