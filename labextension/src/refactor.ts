/**
 * "Refactor notebook…": one instruction for the whole notebook; the answer streams into a review
 * panel, then the apply engine's NotebookDiff is reviewed cell by cell with the server's checks.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { InputDialog, Notification } from '@jupyterlab/apputils';
import { NotebookPanel } from '@jupyterlab/notebook';

import { NO_CHAT_MODEL, chatProviders } from './chat';
import { CursorConnection, RequestCancelled } from './connection';
import { notebookCells } from './protocol';
import { DiffReview, showReview } from './review';

const MAX_OUTPUT_CHARS = 300;

/** What each code cell last showed, as short text (the model needs a hint, not the data). */
export function outputSummaries(panel: NotebookPanel): { [cellId: string]: string } {
  const summaries: { [cellId: string]: string } = {};
  for (const cell of panel.content.model?.cells ?? []) {
    if (cell.type !== 'code') {
      continue;
    }
    const parts: string[] = [];
    for (const output of (cell.toJSON() as any).outputs ?? []) {
      if (output.output_type === 'stream') {
        parts.push([].concat(output.text).join(''));
      } else if (output.data?.['text/plain'] !== undefined) {
        parts.push([].concat(output.data['text/plain']).join(''));
      } else if (output.output_type === 'error') {
        parts.push(`${output.ename}: ${output.evalue}`);
      } else if (output.data) {
        parts.push(`[${Object.keys(output.data).join(', ')}]`);
      }
    }
    const text = parts.join('\n');
    if (text) {
      summaries[cell.id] =
        text.length > MAX_OUTPUT_CHARS ? `${text.slice(0, MAX_OUTPUT_CHARS)}…` : text;
    }
  }
  return summaries;
}

/** Whether any chat provider is configured (true when the server cannot be asked: its own error
 * will say what is wrong). */
export async function hasChatModel(connection: CursorConnection): Promise<boolean> {
  try {
    return (await chatProviders(connection)).providers.length > 0;
  } catch {
    return true;
  }
}

/** A refactor answered sooner than this shows no progress toast. */
const TOAST_AFTER_MS = 400;
/** Time for a toast to be drawn before it can be dismissed. */
const TOAST_DRAWN_MS = 150;

export async function refactorNotebook(
  app: JupyterFrontEnd,
  connection: CursorConnection,
  panel: NotebookPanel,
  instruction?: string,
  title?: string
): Promise<DiffReview | null> {
  if (instruction === undefined) {
    // Say it before the user writes an instruction that nothing can carry out.
    if (!(await hasChatModel(connection))) {
      Notification.error(`Refactor needs a chat model. ${NO_CHAT_MODEL}`, { autoClose: 8000 });
      return null;
    }
    const answer = await InputDialog.getText({
      title: 'Refactor notebook',
      label: 'What should change across the notebook?',
      placeholder: 'rename df to sales, move the imports to the top, …'
    });
    if (!answer.button.accept || !answer.value?.trim()) {
      return null;
    }
    instruction = answer.value.trim();
  }
  const cells = notebookCells(panel);
  let streamed = 0;
  // The progress toast (with Stop) shows only for a refactor that takes a while: a toast emitted
  // and dismissed within a few milliseconds is dismissed before it is drawn, and then stays.
  let toast: string | null = null;
  const progress = () => `Refactoring: ${streamed.toLocaleString()} characters received…`;
  const { id, result } = connection.request(
    'refactor',
    { path: panel.context.path, cells, instruction, outputs: outputSummaries(panel) },
    data => {
      if (data.type === 'delta') {
        streamed += data.text.length;
        if (toast) {
          Notification.update({ id: toast, message: progress() });
        }
      }
    }
  );
  const shown = window.setTimeout(() => {
    toast = Notification.emit(
      streamed ? progress() : 'Refactoring: asking the model…',
      'in-progress',
      {
        autoClose: false,
        actions: [{ label: 'Stop', callback: () => connection.cancel(id) }]
      }
    );
  }, TOAST_AFTER_MS);
  const done = () => {
    window.clearTimeout(shown);
    const last = toast;
    toast = null;
    return last;
  };
  try {
    const diff = await result;
    // The review that opens is the answer: the progress toast (and its Stop) goes at once.
    const last = done();
    if (last) {
      window.setTimeout(() => Notification.dismiss(last), TOAST_DRAWN_MS);
    }
    return showReview(
      app,
      panel,
      new DiffReview(panel, cells, diff, title ?? `Refactor: ${instruction}`)
    );
  } catch (error) {
    const message =
      error instanceof RequestCancelled
        ? 'Refactor stopped.'
        : `Refactor failed: ${(error as Error).message}`;
    const last = done();
    if (last) {
      Notification.update({ id: last, message, type: 'error', autoClose: 8000, actions: [] });
    } else {
      Notification.emit(message, 'error', { autoClose: 8000 });
    }
    return null;
  }
}
