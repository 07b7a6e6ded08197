/**
 * The client side of the one websocket (see jupyter_cursor/protocol.py): requests with ids,
 * replies matched by id, streamed partials, cancellation, and server status events.
 * Reconnects with backoff after the server goes away. The messages are typed in protocol.ts.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import {
  ClientMessage,
  RequestFields,
  RequestPartial,
  RequestResult,
  RequestType,
  ServerMessage,
  ServerStatus
} from './protocol';

export type ConnectionState = 'connecting' | 'open' | 'closed';

export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string
  ) {
    super(message);
  }
}

export class RequestCancelled extends Error {}

type Pending = {
  resolve: (value: unknown) => void;
  reject: (reason: Error) => void;
  onPartial?: (data: unknown) => void;
};

const MAX_BACKOFF_MS = 10000;

export class CursorConnection {
  constructor(
    private readonly serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {
    this._connect();
  }

  get statusChanged(): ISignal<this, ServerStatus | null> {
    return this._statusChanged;
  }

  get stateChanged(): ISignal<this, ConnectionState> {
    return this._stateChanged;
  }

  get status(): ServerStatus | null {
    return this._status;
  }

  get state(): ConnectionState {
    return this._state;
  }

  /**
   * Send a request; resolves with its result, rejects with RequestError or RequestCancelled.
   * `onPartial` receives streamed updates before the result.
   */
  request<K extends RequestType>(
    type: K,
    fields: RequestFields<K>,
    onPartial?: (data: RequestPartial<K>) => void
  ): { id: string; result: Promise<RequestResult<K>> } {
    const id = `${type}-${++this._counter}`;
    const result = new Promise<RequestResult<K>>((resolve, reject) => {
      if (this._state !== 'open' || !this._socket) {
        reject(new RequestError('offline', 'not connected to the jupyter_cursor server'));
        return;
      }
      this._pending.set(id, {
        resolve: resolve as (value: unknown) => void,
        reject,
        onPartial: onPartial as ((data: unknown) => void) | undefined
      });
      this._send({ ...fields, type, id });
    });
    return { id, result };
  }

  /** Ask the server to cancel request `id`; its promise rejects with RequestCancelled. */
  cancel(id: string): void {
    if (this._pending.has(id) && this._socket && this._state === 'open') {
      this._send({ type: 'cancel', id: `cancel-${++this._counter}`, target: id });
    }
  }

  dispose(): void {
    this._disposed = true;
    window.clearTimeout(this._retryTimer);
    this._socket?.close();
    this._rejectAll('connection disposed');
  }

  private _connect(): void {
    if (this._disposed) {
      return;
    }
    this._setState('connecting');
    let url = URLExt.join(this.serverSettings.wsUrl, 'jupyter-cursor', 'ws');
    const token = this.serverSettings.token;
    if (this.serverSettings.appendToken && token) {
      url += `?token=${encodeURIComponent(token)}`;
    }
    const socket = new this.serverSettings.WebSocket(url);
    this._socket = socket;
    socket.onopen = () => {
      this._backoff = 500;
      this._setState('open');
    };
    socket.onmessage = event => this._onMessage(event.data);
    socket.onclose = () => {
      if (this._socket !== socket) {
        return;
      }
      this._socket = null;
      this._rejectAll('connection closed');
      this._setStatus(null);
      this._setState('closed');
      if (!this._disposed) {
        this._retryTimer = window.setTimeout(() => this._connect(), this._backoff);
        this._backoff = Math.min(this._backoff * 2, MAX_BACKOFF_MS);
      }
    };
  }

  private _send(message: ClientMessage): void {
    this._socket!.send(JSON.stringify(message));
  }

  private _onMessage(raw: string): void {
    let msg: ServerMessage;
    try {
      msg = JSON.parse(raw) as ServerMessage;
    } catch {
      console.warn('jupyter_cursor: unreadable message from the server');
      return;
    }
    if (msg.type === 'event') {
      if (msg.event === 'status') {
        this._setStatus(msg.data as ServerStatus);
      }
      return;
    }
    if (msg.id === null) {
      // An error about a message the server could not read, so not one of ours.
      if (msg.type === 'error') {
        console.warn(`jupyter_cursor: ${msg.error.code}: ${msg.error.message}`);
      }
      return;
    }
    const pending = this._pending.get(msg.id);
    if (!pending) {
      return;
    }
    switch (msg.type) {
      case 'partial':
        pending.onPartial?.(msg.data);
        return;
      case 'result':
        this._pending.delete(msg.id);
        pending.resolve(msg.result);
        return;
      case 'error':
        this._pending.delete(msg.id);
        pending.reject(new RequestError(msg.error.code, msg.error.message));
        return;
      case 'cancelled':
        this._pending.delete(msg.id);
        pending.reject(new RequestCancelled(msg.id));
        return;
    }
  }

  private _rejectAll(reason: string): void {
    for (const pending of this._pending.values()) {
      pending.reject(new RequestError('offline', reason));
    }
    this._pending.clear();
  }

  private _setState(state: ConnectionState): void {
    if (state !== this._state) {
      this._state = state;
      this._stateChanged.emit(state);
    }
  }

  private _setStatus(status: ServerStatus | null): void {
    this._status = status;
    this._statusChanged.emit(status);
  }

  private _socket: WebSocket | null = null;
  private _state: ConnectionState = 'closed';
  private _status: ServerStatus | null = null;
  private _pending = new Map<string, Pending>();
  private _counter = 0;
  private _backoff = 500;
  private _retryTimer = 0;
  private _disposed = false;
  private _statusChanged = new Signal<this, ServerStatus | null>(this);
  private _stateChanged = new Signal<this, ConnectionState>(this);
}
