/**
 * The next-edit predictions as one of JupyterLab's inline completion providers, so that ghost text
 * at the cursor streams through the inline completer, in notebooks and in the file editor.
 */
import {
  CompletionHandler,
  IInlineCompletionContext,
  IInlineCompletionItem,
  IInlineCompletionList,
  IInlineCompletionProvider,
  InlineCompletionTriggerKind
} from '@jupyterlab/completer';
import { IDocumentWidget } from '@jupyterlab/docregistry';
import { FileEditor } from '@jupyterlab/fileeditor';
import { NotebookPanel } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';

import { InlineUpdate } from './channel';
import { NextEditManager } from './manager';
import { FileTarget, NotebookTarget } from './targets';

export const PROVIDER_ID = '@jupyter-cursor/next-edit';

export class NextEditInlineProvider implements IInlineCompletionProvider {
  constructor(private readonly manager: NextEditManager) {}

  readonly name = 'Cursor next edit';
  readonly identifier = PROVIDER_ID;
  // Our own setting carries the debounce, so the completer's is zero; on by default.
  readonly schema = { default: { enabled: true, debouncerDelay: 0, timeout: 10000 } };

  async fetch(
    request: CompletionHandler.IRequest,
    context: IInlineCompletionContext
  ): Promise<IInlineCompletionList> {
    const widget = this._track(context.widget);
    if (!widget) {
      return { items: [] };
    }
    const manual = context.triggerKind === InlineCompletionTriggerKind.Invoke;
    const updates = this.manager.inlineCompletion(widget, request.offset, manual);
    // Partials without ghost text at the cursor (edits drawn elsewhere) are not for the completer.
    let first = await updates.next();
    while (!first.done && first.value.text === null && !first.value.final) {
      first = await updates.next();
    }
    if (first.done || first.value.text === null) {
      return { items: [] };
    }
    const item: IInlineCompletionItem = { insertText: first.value.text };
    if (!first.value.final) {
      const token = `nextedit-${++this._counter}`;
      this._streams.set(token, updates);
      item.isIncomplete = true;
      item.token = token;
    }
    return { items: [item] };
  }

  async *stream(token: string): AsyncGenerator<{ response: IInlineCompletionItem }> {
    const updates = this._streams.get(token);
    this._streams.delete(token);
    if (!updates) {
      return;
    }
    for await (const update of updates) {
      yield {
        response: { insertText: update.text ?? '', isIncomplete: !update.final, token }
      };
    }
  }

  /** Notebook panels and file editors are followed from their first completion request. */
  private _track(widget: Widget): Widget | null {
    if (!this.manager.isTracked(widget)) {
      if (widget instanceof NotebookPanel && widget.content.model) {
        this.manager.track(new NotebookTarget(widget));
      } else if ((widget as IDocumentWidget).content instanceof FileEditor) {
        this.manager.track(new FileTarget(widget as IDocumentWidget<FileEditor>));
      } else {
        return null;
      }
    }
    return widget;
  }

  private _streams = new Map<string, AsyncGenerator<InlineUpdate>>();
  private _counter = 0;
}
