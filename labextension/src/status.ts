/**
 * The status-bar item: one word for the server's state, each service in the tooltip; a click
 * opens a small panel (as JupyterLab's own status items do) with each service's state and details.
 */
import { Popup, showPopup } from '@jupyterlab/statusbar';
import { Widget } from '@lumino/widgets';

import { CursorConnection } from './connection';
import { ServerStatus, ServiceStatus } from './protocol';

/** Worst first: the item shows the first state any service is in. */
const SEVERITY = ['error', 'starting', 'loading', 'indexing', 'busy', 'ready', 'not_configured'];

export function describeService(name: string, service: ServiceStatus): string {
  let text = `${name}: ${service.state.replace('_', ' ')}`;
  if (typeof service.progress === 'number' && service.state !== 'ready') {
    text += ` ${Math.round(service.progress * 100)}%`;
  }
  if (service.message) {
    text += ` (${service.message})`;
  }
  return text;
}

export function summarize(status: ServerStatus | null): { state: string; label: string } {
  if (!status) {
    return { state: 'offline', label: 'offline' };
  }
  const services = Object.entries(status.services);
  for (const state of SEVERITY) {
    const hit = services.find(([, s]) => s.state === state);
    if (hit) {
      const [name, service] = hit;
      if (state === 'ready' || state === 'not_configured') {
        return { state, label: state.replace('_', ' ') };
      }
      return { state, label: describeService(name, service) };
    }
  }
  return { state: 'unknown', label: 'unknown' };
}

/** What each service is, for a user reading the panel. */
const SERVICE_TITLES: { [name: string]: string } = {
  model: 'Next-edit model',
  completion: 'Completion',
  index: 'Workspace index',
  apply: 'Apply',
  chat: 'Chat'
};

/** The panel's rows: one per service, its state and what it says (model, source, progress). */
export function renderStatusPanel(node: HTMLElement, status: ServerStatus | null): void {
  const heading = document.createElement('div');
  heading.className = 'jp-CursorStatus-panelTitle';
  heading.textContent = status
    ? `jupyter_cursor ${status.version}`
    : 'jupyter_cursor: not connected';
  const table = document.createElement('table');
  for (const [name, service] of Object.entries(status?.services ?? {})) {
    const row = table.insertRow();
    row.dataset.service = name;
    row.dataset.state = service.state;
    row.insertCell().textContent = SERVICE_TITLES[name] ?? name;
    let state = service.state.replace('_', ' ');
    if (typeof service.progress === 'number' && service.state !== 'ready') {
      state += ` ${Math.round(service.progress * 100)}%`;
    }
    row.insertCell().textContent = state;
    row.insertCell().textContent = service.message ?? '';
  }
  node.replaceChildren(heading, table);
}

export class CursorStatusItem extends Widget {
  constructor(private readonly connection: CursorConnection) {
    super();
    this.addClass('jp-CursorStatus');
    this.addClass('jp-mod-highlighted');
    this.node.setAttribute('role', 'button');
    this.node.tabIndex = 0;
    this.node.addEventListener('click', () => this._toggle());
    this.node.addEventListener('keydown', event => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        this._toggle();
      }
    });
    connection.statusChanged.connect(this._update, this);
    connection.stateChanged.connect(this._update, this);
    this._update();
  }

  private _toggle(): void {
    if (this._popup && !this._popup.isDisposed) {
      this._popup.dispose();
      this._popup = null;
      return;
    }
    const body = new Widget();
    body.addClass('jp-CursorStatus-panel');
    renderStatusPanel(body.node, this.connection.status);
    this._panel = body;
    this._popup = showPopup({ body, anchor: this, align: 'left' });
  }

  private _popup: Popup | null = null;
  private _panel: Widget | null = null;

  dispose(): void {
    this.connection.statusChanged.disconnect(this._update, this);
    this.connection.stateChanged.disconnect(this._update, this);
    super.dispose();
  }

  private _update(): void {
    const status = this.connection.status;
    const { state, label } = summarize(status);
    this.node.dataset.state = state;
    this.node.textContent = `Cursor: ${label}`;
    const lines = status
      ? Object.entries(status.services).map(([name, s]) => describeService(name, s))
      : [`not connected (${this.connection.state})`];
    this.node.title = [`jupyter_cursor ${status?.version ?? ''}`.trim(), ...lines].join('\n');
    if (this._popup && !this._popup.isDisposed && this._panel) {
      renderStatusPanel(this._panel.node, status); // the open panel follows the server
    }
  }
}
