/**
 * What the next-edit client needs from a document, for notebooks and for plain files alike:
 * its cells as the server sees them, the editor of a cell, and where to put the marker classes.
 */
import { CodeMirrorEditor } from '@jupyterlab/codemirror';
import { IDocumentWidget } from '@jupyterlab/docregistry';
import { FileEditor } from '@jupyterlab/fileeditor';
import { NotebookPanel } from '@jupyterlab/notebook';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { Cell, notebookCells } from '../protocol';
import { asOneUndoStep, endUndoStep } from '../undo';
import { Change } from './diff';

/** A cell's new text; `undo`: the change is an undo or a redo (not an edit the user made). */
export type SourceChange = { cellId: string; source: string; undo?: UndoKind };

export type UndoKind = 'undo' | 'redo';

/** Whether a shared model's change now comes from its undo manager (Yjs marks undo and redo). */
function undoing(shared: any): UndoKind | undefined {
  const manager = shared?.undoManager ?? shared?.notebook?.undoManager;
  return manager?.undoing ? 'undo' : manager?.redoing ? 'redo' : undefined;
}

/** A .py file is one code cell with this id, as in the server's next-edit data. */
export const FILE_CELL_ID = 'file';

export interface IEditTarget {
  readonly widget: Widget;
  readonly path: string;
  /** Where the "a suggestion is shown" class goes, which the Tab/Escape shortcuts select on. */
  readonly modNode: HTMLElement;
  readonly sourceChanged: ISignal<IEditTarget, SourceChange>;
  cells(): Cell[];
  /** The code's language: the kernel's for a notebook, 'python' for a Python file ('' unknown). */
  language(): string;
  activeCellId(): string | null;
  cellType(cellId: string): string | null;
  /** The editor of a cell, or null while the cell is not rendered (windowed notebooks). */
  editor(cellId: string): CodeMirrorEditor | null;
  cellNode(cellId: string): HTMLElement | null;
  /** The editor of a cell once it exists (a windowed notebook creates it when it scrolls in). */
  editorReady(cellId: string): Promise<CodeMirrorEditor | null>;
  /** Make the cell active, rendered and focused, with its editor ready. */
  reveal(cellId: string): Promise<CodeMirrorEditor | null>;
  /** Make changes (positions in the cell's current text, in order) as one undo step. */
  applyChanges(cellId: string, changes: ReadonlyArray<Change>): void;
  /**
   * End the cell's current undo step: the next change starts a new one. Yjs merges changes less
   * than half a second apart, so ghost text accepted by the inline completer (which we do not
   * apply ourselves) would otherwise be undone together with the typing before it.
   */
  closeUndoStep(cellId: string): void;
  dispose(): void;
}

export class NotebookTarget implements IEditTarget {
  constructor(readonly panel: NotebookPanel) {
    const model = panel.content.model!;
    for (const cell of model.cells) {
      this._watch(cell);
    }
    model.cells.changed.connect((_, change) => {
      if (change.type === 'add') {
        change.newValues.forEach(cell => this._watch(cell));
      }
    });
  }

  get widget(): Widget {
    return this.panel;
  }

  get path(): string {
    return this.panel.context.path;
  }

  language(): string {
    // language_info comes once a kernel has answered; the kernelspec is there from the start.
    const model = this.panel.content.model;
    const spec = model?.getMetadata('kernelspec') as { language?: string } | undefined;
    return model?.defaultKernelLanguage || spec?.language || '';
  }

  get modNode(): HTMLElement {
    return this.panel.content.node;
  }

  get sourceChanged(): ISignal<IEditTarget, SourceChange> {
    return this._sourceChanged;
  }

  cells(): Cell[] {
    return notebookCells(this.panel);
  }

  activeCellId(): string | null {
    return this.panel.content.activeCell?.model.id ?? null;
  }

  cellType(cellId: string): string | null {
    return this._cell(cellId)?.model.type ?? null;
  }

  editor(cellId: string): CodeMirrorEditor | null {
    const editor = this._cell(cellId)?.editor;
    return editor instanceof CodeMirrorEditor ? editor : null;
  }

  cellNode(cellId: string): HTMLElement | null {
    return this._cell(cellId)?.node ?? null;
  }

  async editorReady(cellId: string): Promise<CodeMirrorEditor | null> {
    const cell = this._cell(cellId);
    if (!cell) {
      return null;
    }
    await cell.ready;
    return this.editor(cellId);
  }

  async reveal(cellId: string): Promise<CodeMirrorEditor | null> {
    const notebook = this.panel.content;
    const index = notebook.widgets.findIndex(cell => cell.model.id === cellId);
    if (index < 0) {
      return null;
    }
    notebook.activeCellIndex = index;
    await notebook.scrollToItem(index, 'smart');
    const cell = notebook.widgets[index];
    await cell.ready;
    notebook.mode = 'edit';
    const editor = this.editor(cellId);
    editor?.focus();
    return editor;
  }

  applyChanges(cellId: string, changes: ReadonlyArray<Change>): void {
    const cell = this._cell(cellId);
    if (cell) {
      applyAsOneStep(cell.model.sharedModel, this.editor(cellId), changes);
    }
  }

  closeUndoStep(cellId: string): void {
    endUndoStep(this._cell(cellId)?.model.sharedModel);
  }

  dispose(): void {
    Signal.clearData(this);
  }

  private _cell(cellId: string) {
    return this.panel.content.widgets.find(cell => cell.model.id === cellId) ?? null;
  }

  private _watch(cell: any): void {
    const id: string = cell.id;
    cell.sharedModel.changed.connect((shared: any, args: any) => {
      if (args.sourceChange) {
        this._sourceChanged.emit({ cellId: id, source: shared.getSource(), undo: undoing(shared) });
      }
    });
  }

  private _sourceChanged = new Signal<IEditTarget, SourceChange>(this);
}

export class FileTarget implements IEditTarget {
  constructor(readonly document: IDocumentWidget<FileEditor>) {
    document.context.model.sharedModel.changed.connect((shared: any, args: any) => {
      if (args.sourceChange) {
        this._sourceChanged.emit({
          cellId: FILE_CELL_ID,
          source: shared.getSource(),
          undo: undoing(shared)
        });
      }
    });
  }

  get widget(): Widget {
    return this.document;
  }

  get path(): string {
    return this.document.context.path;
  }

  language(): string {
    const mimeType = this.document.content.model.mimeType;
    return /python/.test(mimeType) ? 'python' : mimeType;
  }

  get modNode(): HTMLElement {
    return this.document.content.node;
  }

  get sourceChanged(): ISignal<IEditTarget, SourceChange> {
    return this._sourceChanged;
  }

  cells(): Cell[] {
    return [
      {
        id: FILE_CELL_ID,
        cell_type: 'code',
        source: this.document.content.model.sharedModel.getSource()
      }
    ];
  }

  activeCellId(): string {
    return FILE_CELL_ID;
  }

  cellType(): string {
    return 'code';
  }

  editor(): CodeMirrorEditor | null {
    const editor = this.document.content.editor;
    return editor instanceof CodeMirrorEditor ? editor : null;
  }

  cellNode(): HTMLElement {
    return this.document.content.node;
  }

  async editorReady(): Promise<CodeMirrorEditor | null> {
    return this.editor();
  }

  async reveal(): Promise<CodeMirrorEditor | null> {
    const editor = this.editor();
    editor?.focus();
    return editor;
  }

  applyChanges(_cellId: string, changes: ReadonlyArray<Change>): void {
    applyAsOneStep(this.document.content.model.sharedModel, this.editor(), changes);
  }

  closeUndoStep(): void {
    endUndoStep(this.document.content.model.sharedModel);
  }

  dispose(): void {
    Signal.clearData(this);
  }

  private _sourceChanged = new Signal<IEditTarget, SourceChange>(this);
}

/** Through the editor when it is rendered (so its view follows), else on the model. */
function applyAsOneStep(
  shared: any,
  editor: CodeMirrorEditor | null,
  changes: ReadonlyArray<Change>
): void {
  asOneUndoStep(shared, () => {
    if (editor) {
      editor.editor.dispatch({ changes: [...changes], userEvent: 'input.complete' });
    } else {
      shared.transact(() => {
        for (let k = changes.length - 1; k >= 0; k--) {
          shared.updateSource(changes[k].from, changes[k].to, changes[k].insert);
        }
      });
    }
  });
}
