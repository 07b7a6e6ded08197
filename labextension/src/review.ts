/**
 * Review of a NotebookDiff (from the apply engine) before anything reaches the notebook: one card
 * per changed, inserted or deleted cell, a unified diff highlighted as the notebook's cells are,
 * with accept/reject per hunk (@codemirror/merge), accept or reject per cell, accept all. A cell
 * the user edited since the diff was made is never overwritten. Each acceptance is one undo step: a change of one cell's text
 * is a step of that cell's undo (Ctrl+Z in the cell), anything wider (accept all, an inserted or
 * deleted cell) a step of the notebook's undo (Z in command mode), as JupyterLab splits them.
 */
import { Extension, EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { LanguageSupport, language, syntaxHighlighting } from '@codemirror/language';
import { getChunks, unifiedMergeView } from '@codemirror/merge';
import { JupyterFrontEnd } from '@jupyterlab/application';
import { CodeMirrorEditor, jupyterHighlightStyle } from '@jupyterlab/codemirror';
import { NotebookPanel } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';

import { CursorConnection } from './connection';
import { Cell, NotebookDiff, Operation, notebookCells } from './protocol';
import { asOneNotebookUndoStep, asOneUndoStep } from './undo';

/** Open `review` next to the notebook it reviews, and bring it forward. */
export function showReview(
  app: JupyterFrontEnd,
  panel: NotebookPanel,
  review: DiffReview
): DiffReview {
  app.shell.add(review, 'main', { mode: 'split-right', ref: panel.id });
  app.shell.activateById(review.id);
  return review;
}

/** Run the apply engine on a suggestion and open its review next to the notebook. */
export async function reviewSuggestion(
  app: JupyterFrontEnd,
  connection: CursorConnection,
  panel: NotebookPanel,
  suggestion: string,
  title: string
): Promise<DiffReview> {
  const cells = notebookCells(panel);
  const path = panel.context.path;
  const diff = await connection.request('apply', { cells, suggestion, path }).result;
  return showReview(app, panel, new DiffReview(panel, cells, diff, title));
}

/**
 * The notebook's code highlighting, as its cells show it: the language of a code cell's editor
 * (JupyterLab loads it from the kernel's language) with JupyterLab's highlight style; none when no
 * code cell has an editor yet.
 */
function notebookHighlighting(panel: NotebookPanel): Extension {
  for (const cell of panel.content.widgets) {
    const editor = cell.model.type === 'code' ? cell.editor : null;
    const cellLanguage = editor instanceof CodeMirrorEditor && editor.state.facet(language);
    if (cellLanguage) {
      return [new LanguageSupport(cellLanguage), syntaxHighlighting(jupyterHighlightStyle)];
    }
  }
  return [];
}

/** The reviews opened so far, which number their ids. */
let reviewCount = 0;

type Card = {
  op: Operation;
  node: HTMLElement;
  view: EditorView | null;
  before: string; // the cell's source when the diff was made
  done: boolean;
};

export class DiffReview extends Widget {
  constructor(
    private readonly panel: NotebookPanel,
    original: Cell[],
    diff: NotebookDiff,
    title: string
  ) {
    super();
    this.addClass('jp-CursorReview');
    this.id = `jupyter-cursor-review-${++reviewCount}`;
    this.title.label = `Review: ${panel.context.path.split('/').pop()}`;
    this.title.closable = true;

    const header = document.createElement('div');
    header.className = 'jp-CursorReview-header';
    const heading = document.createElement('div');
    heading.className = 'jp-CursorReview-title';
    heading.textContent = title;
    heading.title = title; // the whole of it, where a narrow panel cuts it short
    this.summary = document.createElement('div');
    this.summary.className = 'jp-CursorReview-summary';
    const acceptAll = this._button('Accept all', 'jp-mod-accept', () => this.acceptAll());
    const rejectAll = this._button('Reject all', 'jp-mod-reject', () => this.rejectAll());
    header.append(heading, this.summary);
    if (diff.ops.length) {
      // nothing to accept or reject in an empty review
      const actions = document.createElement('div');
      actions.className = 'jp-CursorReview-headerActions';
      actions.append(acceptAll, rejectAll);
      header.append(actions);
    }
    this.node.appendChild(header);

    const all = diff.warnings.map(w => (typeof w === 'string' ? { message: w } : w));
    // A warning about a cell the diff changes (a fuzzy match) goes on that cell's card.
    const changed = new Set(diff.ops.map(op => (op.op === 'insert' ? '' : op.cell_id)));
    const onCard = (w: { cell_id?: string }) => !!w.cell_id && changed.has(w.cell_id);
    const warnings = all.filter(w => !onCard(w));
    if (warnings.length) {
      const list = document.createElement('ul');
      list.className = 'jp-CursorReview-warnings';
      for (const warning of warnings) {
        const li = document.createElement('li');
        li.textContent = warning.message;
        list.appendChild(li);
      }
      this.node.appendChild(list);
    }
    this.highlighting = notebookHighlighting(panel);
    const byId = new Map(original.map(cell => [cell.id, cell]));
    const after = new Map(diff.cells.map(cell => [cell.id, cell]));
    this.result = diff.cells.map(cell => cell.id);
    for (const op of diff.ops) {
      const notes = all.filter(w => onCard(w) && op.op !== 'insert' && w.cell_id === op.cell_id);
      this.cards.push(this._card(op, byId, after, notes));
    }
    if (!diff.ops.length) {
      const empty = document.createElement('div');
      empty.className = 'jp-CursorReview-empty';
      empty.textContent = 'No change to apply.';
      this.node.appendChild(empty);
    }
    this._updateSummary();
  }

  get pending(): number {
    return this.cards.filter(card => !card.done).length;
  }

  acceptAll(): void {
    // Always one step of the notebook's undo (Z), even when one cell changes: as the README says.
    this._accept(
      this.cards.filter(card => !card.done),
      true
    );
  }

  rejectAll(): void {
    for (const card of this.cards) {
      this._finish(card, 'rejected');
    }
    this._updateSummary();
  }

  private _card(
    op: Operation,
    byId: Map<string, Cell>,
    after: Map<string, Cell>,
    notes: { message: string }[]
  ): Card {
    const node = document.createElement('section');
    node.className = `jp-CursorReview-card jp-mod-${op.op}`;
    const title = document.createElement('div');
    title.className = 'jp-CursorReview-cardTitle';
    const label = document.createElement('span');
    label.className = 'jp-CursorReview-cardLabel';
    title.appendChild(label);
    const body = document.createElement('div');
    body.className = 'jp-CursorReview-cardBody';
    let view: EditorView | null = null;
    let before = '';
    if (op.op === 'modify') {
      const cell = byId.get(op.cell_id);
      before = cell?.source ?? '';
      const source = op.source ?? after.get(op.cell_id)?.source ?? before;
      label.textContent = `Change cell ${this._indexOf(op.cell_id) + 1}`;
      view = new EditorView({
        parent: body,
        state: EditorState.create({
          doc: source,
          extensions: [
            // Deleted lines are highlighted with the state's language too (the merge view's default).
            unifiedMergeView({ original: before, mergeControls: true, gutter: true }),
            this.highlighting,
            EditorView.lineWrapping,
            // a hunk accepted or rejected on its own changes the count of open hunks
            EditorView.updateListener.of(update => {
              if (update.transactions.length) {
                this._updateSummary();
              }
            })
          ]
        })
      });
    } else if (op.op === 'insert') {
      label.textContent = `New ${op.cell_type} cell at position ${op.position + 1}`;
      const pre = document.createElement('pre');
      pre.className = 'jp-CursorReview-inserted';
      pre.textContent = op.source;
      body.appendChild(pre);
    } else {
      before = byId.get(op.cell_id)?.source ?? '';
      label.textContent = `Delete cell ${this._indexOf(op.cell_id) + 1}`;
      const pre = document.createElement('pre');
      pre.className = 'jp-CursorReview-deleted';
      pre.textContent = before;
      body.appendChild(pre);
    }
    const card: Card = { op, node, view, before, done: false };
    const actions = document.createElement('div');
    actions.className = 'jp-CursorReview-actions';
    const jump = this._button('Show cell', '', () => this._show(card));
    const accept = this._button('Accept', 'jp-mod-accept', () => this._accept([card]));
    const reject = this._button('Reject', 'jp-mod-reject', () => {
      this._finish(card, 'rejected');
      this._updateSummary();
    });
    actions.append(jump, accept, reject);
    title.appendChild(actions);
    node.append(title);
    for (const note of notes) {
      const warning = document.createElement('div');
      warning.className = 'jp-CursorReview-cardWarning';
      warning.textContent = note.message;
      node.append(warning);
    }
    node.append(body);
    this.node.appendChild(node);
    return card;
  }

  /**
   * Apply the accepted cards as one undo step; a card whose cell changed meanwhile is skipped.
   * One card's change of one cell is a step of that cell's undo; `all` (Accept all) or anything
   * wider, a step of the notebook's.
   */
  private _accept(cards: Card[], all = false): void {
    const model = this.panel.content.model!;
    const sources = new Map<string, { setSource(source: string): void }>();
    const accepted: Card[] = [];
    for (const card of cards) {
      const op = card.op;
      if (op.op !== 'insert') {
        const index = this._indexOf(op.cell_id);
        if (index < 0) {
          this._finish(card, 'skipped: the cell no longer exists');
          continue;
        }
        const cell = model.cells.get(index).sharedModel;
        if (cell.getSource() !== card.before) {
          // The user edited this cell during the review: their text wins.
          this._finish(card, 'skipped: the cell was edited during the review');
          continue;
        }
        sources.set(op.cell_id, cell);
      }
      accepted.push(card);
    }
    const single = accepted.length === 1 && !all ? accepted[0] : null;
    if (single?.op.op === 'modify') {
      const cell = sources.get(single.op.cell_id)!;
      asOneUndoStep(cell, () => cell.setSource(this._acceptedText(single)));
    } else if (accepted.length) {
      asOneNotebookUndoStep(model.sharedModel, () => this._applyToNotebook(accepted, sources));
    }
    for (const card of accepted) {
      this._finish(card, 'accepted');
    }
    this._updateSummary();
  }

  /**
   * Deletions, modifications, then insertions in the order of the result. Inside one transaction
   * the notebook's cell lists only catch up when it ends, so positions come from `ids`, which
   * follows each change; an inserted cell keeps the diff's id and lands after the nearest cell
   * that precedes it in the result and is in the notebook (a later insertion's anchor may be an
   * insertion the user rejected).
   */
  private _applyToNotebook(
    cards: Card[],
    sources: Map<string, { setSource(source: string): void }>
  ): void {
    const shared = this.panel.content.model!.sharedModel;
    const ids = [...shared.cells].map(cell => cell.getId());
    for (const card of cards) {
      if (card.op.op === 'delete') {
        const index = ids.indexOf(card.op.cell_id);
        shared.deleteCell(index);
        ids.splice(index, 1);
      } else if (card.op.op === 'modify') {
        sources.get(card.op.cell_id)!.setSource(this._acceptedText(card));
      }
    }
    const inserts = cards
      .map(card => card.op)
      .filter((op): op is Extract<Operation, { op: 'insert' }> => op.op === 'insert')
      .sort((a, b) => a.position - b.position);
    for (const op of inserts) {
      const preceding = this.result.slice(0, this.result.indexOf(op.id)).reverse();
      const anchor = preceding.find(id => ids.includes(id));
      const index = anchor === undefined ? 0 : ids.indexOf(anchor) + 1;
      shared.insertCell(index, {
        id: op.id,
        cell_type: op.cell_type,
        source: op.source,
        metadata: {}
      });
      ids.splice(index, 0, op.id);
    }
  }

  /** What is left in the merge view after per-hunk rejections is the accepted text. */
  private _acceptedText(card: Card): string {
    return card.view ? card.view.state.doc.toString() : card.before;
  }

  private _finish(card: Card, outcome: string): void {
    if (card.done) {
      return;
    }
    card.done = true;
    card.node.classList.add('jp-mod-done');
    card.node.dataset.outcome = outcome;
    const note = document.createElement('div');
    note.className = 'jp-CursorReview-outcome';
    note.textContent = outcome;
    card.node.querySelector('.jp-CursorReview-actions')?.replaceChildren(note);
    card.view?.destroy();
    card.view = null;
  }

  private async _show(card: Card): Promise<void> {
    const op = card.op;
    const index = op.op === 'insert' ? op.position : this._indexOf(op.cell_id);
    if (index >= 0) {
      const notebook = this.panel.content;
      notebook.activeCellIndex = Math.min(index, notebook.widgets.length - 1);
      await notebook.scrollToItem(notebook.activeCellIndex, 'center');
    }
  }

  private _indexOf(cellId: string): number {
    const cells = this.panel.content.model?.cells;
    if (!cells) {
      return -1;
    }
    for (let i = 0; i < cells.length; i++) {
      if (cells.get(i).id === cellId) {
        return i;
      }
    }
    return -1;
  }

  private _updateSummary(): void {
    const counts = { modify: 0, insert: 0, delete: 0 };
    for (const card of this.cards) {
      counts[card.op.op]++;
    }
    const hunks = this.cards.reduce(
      (total, card) => total + (card.view ? (getChunks(card.view.state)?.chunks.length ?? 0) : 0),
      0
    );
    this.summary.textContent =
      `${counts.modify} changed, ${counts.insert} inserted, ${counts.delete} deleted` +
      (this.pending ? ` · ${this.pending} to review, ${hunks} open hunks` : ' · all reviewed');
    this.summary.title = this.summary.textContent;
    this.node.classList.toggle('jp-mod-complete', this.pending === 0);
  }

  private _button(label: string, cls: string, onClick: () => void): HTMLButtonElement {
    const button = document.createElement('button');
    button.className = `jp-Button jp-CursorReview-button ${cls}`.trim();
    button.textContent = label;
    button.addEventListener('click', onClick);
    return button;
  }

  private cards: Card[] = [];
  private highlighting: Extension;
  private summary: HTMLElement;
  private result: string[]; // the cell ids of the notebook the diff makes, in order
}
