import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { Token } from '@lumino/coreutils';

import { CursorConnection } from './connection';
import { SearchPanel } from './search';
import { CursorStatusItem } from './status';

export { CursorConnection } from './connection';

const PLUGIN_ID = 'jupyter-cursor:plugin';

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
  activate: (app: JupyterFrontEnd) =>
    new CursorConnection(app.serviceManager.serverSettings)
};

const statusPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
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
    if (settingRegistry) {
      const apply = (settings: ISettingRegistry.ISettings) => {
        item.setHidden(!(settings.get('showStatusBarItem').composite as boolean));
      };
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          apply(settings);
          settings.changed.connect(apply);
        })
        .catch(reason => console.error('jupyter_cursor: cannot load settings', reason));
    }
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
        panel.focusInput();
      }
    });
    palette?.addItem({ command: SEARCH_COMMAND, category: 'Cursor' });
  }
};

export default [connectionPlugin, statusPlugin, searchPlugin];
