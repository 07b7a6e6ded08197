/**
 * A cell whose execution failed gets a fix (issue 20): the server's rules (kernel/fix.py) answer
 * at once as a next-edit suggestion in the cell (Tab to go there and accept it), and with a chat
 * model configured, a "Fix with AI" button on the error output (and a command) asks it with the
 * traceback and the kernel's variables; its answer goes through apply into the diff review.
 * Nothing runs until the user executes the cell again.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Cell, CodeCell } from '@jupyterlab/cells';
import { KernelError, NotebookActions, NotebookPanel } from '@jupyterlab/notebook';

import { CursorConnection } from './connection';
import { NextEditManager } from './nextedit/manager';
import { NotebookTarget } from './nextedit/targets';
import { ExecutionError } from './protocol';
import { hasChatModel, refactorNotebook } from './refactor';

export const FIX_WITH_AI = 'jupyter-cursor:fix-with-ai';
const BUTTON_CLASS = 'jp-cursor-FixWithAI';
const MAX_TRACEBACK_LINES = 30;
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** The last error of each cell, by cell id: what "Fix with AI" asks about. */
const lastErrors = new Map<string, ExecutionError>();

function executionError(error: KernelError): ExecutionError {
  return {
    ename: error.errorName,
    evalue: error.errorValue,
    traceback: error.traceback ?? []
  };
}

/** The instruction that asks a chat model to fix cell `number`'s error. */
export function fixInstruction(number: number, error: ExecutionError): string {
  const traceback = error.traceback
    .slice(-MAX_TRACEBACK_LINES)
    .map(line => line.replace(ANSI, ''))
    .join('\n');
  return (
    `Cell ${number} failed with ${error.ename}: ${error.evalue}\n\n` +
    `Traceback:\n${traceback}\n\n` +
    `Fix cell ${number} so that it runs; change other cells only if the fix needs it. ` +
    'Use the kernel variables listed above where they help.'
  );
}

export async function fixWithAI(
  app: JupyterFrontEnd,
  connection: CursorConnection,
  panel: NotebookPanel,
  cellId: string
): Promise<void> {
  const error = lastErrors.get(cellId);
  const cells = panel.content.model?.cells;
  if (!error || !cells) {
    return;
  }
  let number = 0;
  for (let i = 0; i < cells.length; i++) {
    if (cells.get(i).id === cellId) {
      number = i + 1;
    }
  }
  await refactorNotebook(
    app,
    connection,
    panel,
    fixInstruction(number, error),
    `Fix cell ${number}: ${error.ename}`
  );
}

function addButton(cell: CodeCell, onClick: () => void): void {
  const outputs = cell.outputArea.node;
  outputs.querySelector(`.${BUTTON_CLASS}`)?.remove();
  const errorOutput = Array.from(
    outputs.querySelectorAll(
      '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
    )
  ).pop();
  // Below the traceback, inside the error's own output (a block: the output's row beside its
  // prompt is a flex row, where the button was squeezed and clipped); cleared with it.
  const host = errorOutput ?? outputs.lastElementChild;
  if (!host) {
    return;
  }
  const button = document.createElement('button');
  button.className = `${BUTTON_CLASS} jp-mod-styled jp-mod-accept`;
  button.textContent = 'Fix with AI';
  button.title = 'Ask the chat model for a fix of this error, and review it before it applies';
  button.style.display = 'block';
  button.style.margin = '4px 0';
  button.addEventListener('click', onClick);
  host.appendChild(button);
}

/** Follow every notebook's executions: a failed cell asks for its fix. */
export function followErrors(
  app: JupyterFrontEnd,
  connection: CursorConnection,
  manager: NextEditManager
): void {
  NotebookActions.executed.connect((_, { notebook, cell, success, error }) => {
    const panel = notebook.parent;
    if (success || !error || !(panel instanceof NotebookPanel) || cell.model.type !== 'code') {
      if (cell.model.type === 'code') {
        lastErrors.delete(cell.model.id);
      }
      return;
    }
    const failed = executionError(error);
    lastErrors.set(cell.model.id, failed);
    if (!manager.isTracked(panel)) {
      manager.track(new NotebookTarget(panel));
    }
    manager.requestFix(panel, cell.model.id, failed);
    void hasChatModel(connection).then(has => {
      if (has && lastErrors.get(cell.model.id) === failed) {
        addButton(cell as Cell as CodeCell, () =>
          app.commands.execute(FIX_WITH_AI, { cellId: cell.model.id })
        );
      }
    });
  });
}
