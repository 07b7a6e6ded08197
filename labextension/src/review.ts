/**
 * Review of a NotebookDiff (from the apply engine) before anything reaches the notebook: one card
 * per changed, inserted or deleted cell, a unified diff with accept/reject per hunk
 * (@codemirror/merge), accept or reject per cell, accept all. A cell the user edited since the
 * diff was made is never overwritten. Each accepted cell change is one step of that cell's undo.
 */
import { EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { getChunks, unifiedMergeView } from '@codemirror/merge';
import { NotebookPanel } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';

import { asOneUndoStep } from './undo';

type Cell = { id: string; cell_type: string; source: string };
export type Operation =
  | { op: 'modify'; cell_id: string; source?: string; [key: string]: unknown }
  | { op: 'insert'; position: number; cell_type: string; source: string; [key: string]: unknown }
  | { op: 'delete'; cell_id: string; [key: string]: unknown };
type Warning = { code?: string; message: string; cell_id?: string };
export type NotebookDiff = { cells: Cell[]; ops: Operation[]; warnings: (Warning | string)[] };

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
    this.id = `jupyter-cursor-review-${++Private.counter}`;
    this.title.label = `Review: ${panel.context.path.split('/').pop()}`;
    this.title.closable = true;

    const header = document.createElement('div');
    header.className = 'jp-CursorReview-header';
    const heading = document.createElement('div');
    heading.className = 'jp-CursorReview-title';
    heading.textContent = title;
    this.summary = document.createElement('div');
    this.summary.className = 'jp-CursorReview-summary';
    const acceptAll = this._button('Accept all', 'jp-mod-accept', () => this.acceptAll());
    const rejectAll = this._button('Reject all', 'jp-mod-reject', () => this.rejectAll());
    header.append(heading, this.summary, acceptAll, rejectAll);
    this.node.appendChild(header);

    const warnings = diff.warnings.map(w => (typeof w === 'string' ? { message: w } : w));
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
    const byId = new Map(original.map(cell => [cell.id, cell]));
    const after = new Map(diff.cells.map(cell => [cell.id, cell]));
    for (const op of diff.ops) {
      this.cards.push(this._card(op, byId, after));
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
    // Deletions last and inserts bottom-up keep the positions of the others valid.
    // Not one notebook transaction: a cell's change must stay in that cell's own undo history
    // (a transaction of the notebook is invisible to it), so each accepted cell is one undo step.
    const order = [...this.cards].sort((a, b) => rank(a.op) - rank(b.op));
    for (const card of order) {
      if (!card.done) {
        this._accept(card);
      }
    }
    this._updateSummary();
  }

  rejectAll(): void {
    for (const card of this.cards) {
      this._finish(card, 'rejected');
    }
    this._updateSummary();
  }

  private _card(op: Operation, byId: Map<string, Cell>, after: Map<string, Cell>): Card {
    const node = document.createElement('section');
    node.className = `jp-CursorReview-card jp-mod-${op.op}`;
    const title = document.createElement('div');
    title.className = 'jp-CursorReview-cardTitle';
    const body = document.createElement('div');
    body.className = 'jp-CursorReview-cardBody';
    let view: EditorView | null = null;
    let before = '';
    if (op.op === 'modify') {
      const cell = byId.get(op.cell_id);
      before = cell?.source ?? '';
      const source = op.source ?? after.get(op.cell_id)?.source ?? before;
      title.textContent = `Change cell ${this._indexOf(op.cell_id) + 1}`;
      view = new EditorView({
        parent: body,
        state: EditorState.create({
          doc: source,
          extensions: [
            unifiedMergeView({ original: before, mergeControls: true, gutter: true }),
            EditorView.lineWrapping
          ]
        })
      });
    } else if (op.op === 'insert') {
      title.textContent = `New ${op.cell_type} cell at position ${op.position + 1}`;
      const pre = document.createElement('pre');
      pre.className = 'jp-CursorReview-inserted';
      pre.textContent = op.source;
      body.appendChild(pre);
    } else {
      before = byId.get(op.cell_id)?.source ?? '';
      title.textContent = `Delete cell ${this._indexOf(op.cell_id) + 1}`;
      const pre = document.createElement('pre');
      pre.className = 'jp-CursorReview-deleted';
      pre.textContent = before;
      body.appendChild(pre);
    }
    const card: Card = { op, node, view, before, done: false };
    const actions = document.createElement('div');
    actions.className = 'jp-CursorReview-actions';
    const jump = this._button('Show cell', '', () => this._show(card));
    const accept = this._button('Accept', 'jp-mod-accept', () => {
      this._accept(card);
      this._updateSummary();
    });
    const reject = this._button('Reject', 'jp-mod-reject', () => {
      this._finish(card, 'rejected');
      this._updateSummary();
    });
    actions.append(jump, accept, reject);
    title.appendChild(actions);
    node.append(title, body);
    this.node.appendChild(node);
    return card;
  }

  private _accept(card: Card): void {
    const notebook = this.panel.content;
    const model = notebook.model!;
    const op = card.op;
    if (op.op === 'insert') {
      const position = Math.min(op.position, model.cells.length);
      model.sharedModel.insertCell(position, {
        cell_type: op.cell_type as any,
        source: op.source,
        metadata: {}
      });
      this._finish(card, 'accepted');
      return;
    }
    const index = this._indexOf(op.cell_id);
    if (index < 0) {
      this._finish(card, 'skipped: the cell no longer exists');
      return;
    }
    const cell = model.cells.get(index);
    if (cell.sharedModel.getSource() !== card.before) {
      // The user edited this cell during the review: their text wins.
      this._finish(card, 'skipped: the cell was edited during the review');
      return;
    }
    if (op.op === 'delete') {
      model.sharedModel.deleteCell(index);
    } else {
      // What is left in the merge view after per-hunk rejections is the accepted text.
      const source = card.view ? card.view.state.doc.toString() : card.before;
      asOneUndoStep(cell.sharedModel, () => cell.sharedModel.setSource(source));
    }
    this._finish(card, 'accepted');
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
  private summary: HTMLElement;
}

function rank(op: Operation): number {
  // modifications first, then inserts from the bottom up, then deletions
  if (op.op === 'modify') {
    return 0;
  }
  if (op.op === 'insert') {
    return 1 + 1 / (1 + op.position);
  }
  return 3;
}

namespace Private {
  export let counter = 0;
}
