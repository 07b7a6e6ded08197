import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { EditorExtensionRegistry, IEditorExtensionRegistry } from '@jupyterlab/codemirror';
import { ICompletionProviderManager } from '@jupyterlab/completer';
import { IEditorTracker } from '@jupyterlab/fileeditor';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { Token } from '@lumino/coreutils';

import { CursorConnection } from './connection';
import { jumpHintField, keysToCommands, suggestionField } from './nextedit/decorations';
import { DEFAULT_SETTINGS, NextEditManager, NextEditSettings } from './nextedit/manager';
import { NextEditInlineProvider } from './nextedit/provider';
import { FileTarget, NotebookTarget } from './nextedit/targets';
import { ChatPanel } from './chat';
import { FIX_WITH_AI, fixWithAI, followErrors } from './fix';
import { refactorNotebook } from './refactor';
import { reviewSuggestion } from './review';
import { SearchPanel } from './search';
import { CursorStatusItem } from './status';

export { CursorConnection } from './connection';
export { reviewSuggestion } from './review';

/** The settings of schema/plugin.json (`<package name>:<schema file>`). */
const SETTINGS_ID = 'jupyter-cursor:plugin';

/**
 * Call `apply` with the settings once they load, and again at each change. The one loader of
 * every plugin that reads them (each reads its own part).
 */
function followSettings(
  registry: ISettingRegistry | null,
  apply: (settings: ISettingRegistry.ISettings) => void
): void {
  registry
    ?.load(SETTINGS_ID)
    .then(settings => {
      apply(settings);
      settings.changed.connect(apply);
    })
    .catch(reason => console.error('jupyter_cursor: cannot load settings', reason));
}

/** The shared websocket connection, for the features of later plugins. */
export const ICursorConnection = new Token<CursorConnection>(
  'jupyter-cursor:ICursorConnection',
  'The connection to the jupyter_cursor server extension.'
);

const connectionPlugin: JupyterFrontEndPlugin<CursorConnection> = {
  id: 'jupyter-cursor:connection',
  description: 'The websocket connection to the jupyter_cursor server extension.',
  autoStart: true,
  provides: ICursorConnection,
  activate: (app: JupyterFrontEnd) => new CursorConnection(app.serviceManager.serverSettings)
};

const statusPlugin: JupyterFrontEndPlugin<void> = {
  // The same id as the settings (SETTINGS_ID), as it has always been: users may disable it by it.
  id: 'jupyter-cursor:plugin',
  description: 'Shows the state of jupyter_cursor in the status bar.',
  autoStart: true,
  requires: [ICursorConnection],
  optional: [IStatusBar, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    connection: CursorConnection,
    statusBar: IStatusBar | null,
    settingRegistry: ISettingRegistry | null
  ) => {
    if (!statusBar) {
      // Notebook 7 has no status bar; the connection still serves the other features.
      return;
    }
    const item = new CursorStatusItem(connection);
    statusBar.registerStatusItem('jupyter-cursor:status', {
      item,
      align: 'left',
      rank: 4
    });
    followSettings(settingRegistry, settings => {
      item.setHidden(!(settings.get('showStatusBarItem').composite as boolean));
    });
  }
};

const SEARCH_COMMAND = 'jupyter-cursor:search-workspace';

const searchPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-cursor:search',
  description: 'Search the workspace index and open a hit at its cell.',
  autoStart: true,
  optional: [ICommandPalette],
  activate: (app: JupyterFrontEnd, palette: ICommandPalette | null) => {
    const panel = new SearchPanel(app, app.serviceManager.serverSettings);
    app.shell.add(panel, 'left', { rank: 650 });
    app.commands.addCommand(SEARCH_COMMAND, {
      label: 'Search workspace…',
      caption: 'Search notebooks and files in the workspace (words and meaning)',
      execute: () => {
        app.shell.activateById(panel.id);
      }
    });
    palette?.addItem({ command: SEARCH_COMMAND, category: 'Cursor' });
  }
};

const NEXT_EDIT_TAB = 'jupyter-cursor:next-edit-tab';
const NEXT_EDIT_DISMISS = 'jupyter-cursor:next-edit-dismiss';
const INLINE_ACCEPT = 'inline-completer:accept';

/** The one manager, for tests and for later plugins (chat, refactor) that want it. */
export const INextEditManager = new Token<NextEditManager>(
  'jupyter-cursor:INextEditManager',
  'Next-edit predictions: tracked documents, shown suggestions, Tab and Escape.'
);

const nextEditPlugin: JupyterFrontEndPlugin<NextEditManager> = {
  id: 'jupyter-cursor:next-edit',
  description: 'Next-edit predictions as inline completions and inline diffs.',
  autoStart: true,
  provides: INextEditManager,
  requires: [ICursorConnection, ICompletionProviderManager, IEditorExtensionRegistry],
  optional: [INotebookTracker, IEditorTracker, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    connection: CursorConnection,
    completions: ICompletionProviderManager,
    extensions: IEditorExtensionRegistry,
    notebooks: INotebookTracker | null,
    editors: IEditorTracker | null,
    settingRegistry: ISettingRegistry | null
  ) => {
    const manager = new NextEditManager(connection);
    extensions.addExtension({
      name: 'jupyter-cursor:next-edit',
      factory: () =>
        EditorExtensionRegistry.createImmutableExtension([
          suggestionField,
          jumpHintField,
          keysToCommands(app.commands)
        ])
    });
    completions.registerInlineProvider(new NextEditInlineProvider(manager));

    // Follow documents from the moment they open, so the first edits are in the history.
    notebooks?.widgetAdded.connect((_, panel) => {
      void panel.context.ready.then(() => manager.track(new NotebookTarget(panel)));
    });
    editors?.widgetAdded.connect((_, widget) => {
      void widget.context.ready.then(() => manager.track(new FileTarget(widget)));
    });

    app.commands.addCommand(NEXT_EDIT_TAB, {
      label: 'Jump to or accept the next-edit suggestion',
      execute: () => {
        // Ghost text of the inline completer at the cursor comes first: Tab accepts it there.
        const focused = document.activeElement?.closest('.jp-mod-inline-completer-active');
        if (focused && app.commands.hasCommand(INLINE_ACCEPT)) {
          return app.commands.execute(INLINE_ACCEPT);
        }
        return manager.tab(app.shell.currentWidget);
      }
    });
    app.commands.addCommand(NEXT_EDIT_DISMISS, {
      label: 'Dismiss the next-edit suggestions',
      execute: () => manager.dismiss(app.shell.currentWidget)
    });

    // A failed cell: its fix as a next edit, and "Fix with AI" with a chat model (fix.ts).
    followErrors(app, connection, manager);
    app.commands.addCommand(FIX_WITH_AI, {
      label: 'Fix the failed cell with AI',
      caption: "Ask the chat model to fix the cell's error; review the change before it applies",
      isEnabled: () => Boolean(notebooks?.currentWidget),
      execute: args => {
        const panel = notebooks?.currentWidget;
        const cellId = (args.cellId as string | undefined) ?? notebooks?.activeCell?.model.id;
        if (panel && cellId) {
          return fixWithAI(app, connection, panel, cellId);
        }
      }
    });

    followSettings(settingRegistry, settings => {
      const value = settings.get('nextEdit').composite as Partial<NextEditSettings>;
      manager.settings = { ...DEFAULT_SETTINGS, ...value };
    });
    return manager;
  }
};

const OPEN_CHAT = 'jupyter-cursor:open-chat';

const chatPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-cursor:chat',
  description: 'A chat panel over the configured foundation models, with Apply and review.',
  autoStart: true,
  requires: [ICursorConnection, INotebookTracker, IRenderMimeRegistry],
  optional: [ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    connection: CursorConnection,
    notebooks: INotebookTracker,
    rendermime: IRenderMimeRegistry,
    palette: ICommandPalette | null
  ) => {
    const panel = new ChatPanel(connection, notebooks, rendermime, async (notebook, suggestion) => {
      try {
        await reviewSuggestion(app, connection, notebook, suggestion, 'Apply from chat');
      } catch (error) {
        console.warn('jupyter_cursor: apply failed', error);
      }
    });
    app.shell.add(panel, 'right', { rank: 600 });
    app.commands.addCommand(OPEN_CHAT, {
      label: 'Open Cursor chat',
      execute: () => {
        app.shell.activateById(panel.id);
      }
    });
    palette?.addItem({ command: OPEN_CHAT, category: 'Cursor' });
  }
};

const REFACTOR = 'jupyter-cursor:refactor-notebook';

const refactorPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-cursor:refactor',
  description: 'The notebook-wide Refactor command.',
  autoStart: true,
  requires: [ICursorConnection, INotebookTracker],
  optional: [ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    connection: CursorConnection,
    notebooks: INotebookTracker,
    palette: ICommandPalette | null
  ) => {
    app.commands.addCommand(REFACTOR, {
      label: 'Refactor notebook…',
      caption: 'Describe a change; review it cell by cell before it applies',
      isEnabled: () => notebooks.currentWidget !== null,
      execute: async args => {
        const panel = notebooks.currentWidget;
        if (panel) {
          await refactorNotebook(app, connection, panel, args.instruction as string | undefined);
        }
      }
    });
    palette?.addItem({ command: REFACTOR, category: 'Cursor' });
    palette?.addItem({ command: FIX_WITH_AI, category: 'Cursor' });
    app.contextMenu.addItem({ command: REFACTOR, selector: '.jp-Notebook', rank: 20 });
  }
};

export default [
  connectionPlugin,
  statusPlugin,
  searchPlugin,
  nextEditPlugin,
  chatPlugin,
  refactorPlugin
];
