/**
 * The updates of one prediction for one consumer (JupyterLab's inline completer), as an async
 * iterable: pushed as the prediction streams in, ended by the final one or by `close`.
 */

/** What the inline completer shows: ghost text at the cursor, or nothing. */
export type InlineUpdate = { text: string | null; final: boolean };

export class UpdateChannel {
  push(update: InlineUpdate): void {
    if (!this._closed) {
      this._queue.push(update);
      if (update.final) {
        this._closed = true;
      }
      this._wake?.();
    }
  }

  close(): void {
    this.push({ text: null, final: true });
  }

  async *updates(): AsyncGenerator<InlineUpdate> {
    while (true) {
      if (this._queue.length === 0) {
        await new Promise<void>(resolve => (this._wake = resolve));
        this._wake = null;
        continue;
      }
      const update = this._queue.shift()!;
      yield update;
      if (update.final) {
        return;
      }
    }
  }

  private _queue: InlineUpdate[] = [];
  private _wake: (() => void) | null = null;
  private _closed = false;
}
