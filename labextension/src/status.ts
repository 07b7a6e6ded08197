/**
 * The status-bar item: one word for the server's state, each service in the tooltip.
 */
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

export class CursorStatusItem extends Widget {
  constructor(private readonly connection: CursorConnection) {
    super();
    this.addClass('jp-CursorStatus');
    this.node.setAttribute('role', 'status');
    connection.statusChanged.connect(this._update, this);
    connection.stateChanged.connect(this._update, this);
    this._update();
  }

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
  }
}
