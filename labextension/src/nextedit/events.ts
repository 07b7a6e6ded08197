/**
 * Recent edits of one document, as the server wants them: {cell_id, before, after}, oldest first.
 * Keystrokes in the same cell less than COALESCE_MS apart become one event, so that the model
 * sees edits the way a person thinks of them ("renamed x to y"), not one character at a time.
 */
import { EditEvent } from '../protocol';

const COALESCE_MS = 1000;
const MAX_EVENTS = 16;

export class EditHistory {
  /** Remember a cell's text without recording an edit (first sight, or a change we applied). */
  observe(cellId: string, source: string): void {
    this._sources.set(cellId, source);
  }

  /**
   * Record an edit. A `separate` one (an accepted suggestion) is its own event: neither merged
   * into the typing before it nor taking in the typing after it.
   */
  record(cellId: string, source: string, now = Date.now(), separate = false): void {
    const before = this._sources.get(cellId);
    this._sources.set(cellId, source);
    if (before === undefined || before === source) {
      return;
    }
    const last = this._events[this._events.length - 1];
    const coalesce = !separate && !this._sealed && last?.cell_id === cellId;
    this._sealed = separate;
    if (last && coalesce && now - this._lastAt < COALESCE_MS) {
      last.after = source;
      if (last.before === last.after) {
        this._events.pop();
      }
    } else {
      this._events.push({ cell_id: cellId, before, after: source });
      if (this._events.length > MAX_EVENTS) {
        this._events.shift();
      }
    }
    this._lastAt = now;
  }

  /**
   * An undo or a `redo` made `cellId`'s text `source`: no edit of the user's. An undo of the
   * cell's last event drops it, whether it takes all of it back or only part (Yjs's undo steps
   * end at a half-second pause, our events at a second's), and whatever other cells were edited
   * since: the undone edit never happened, and what is left of it is no edit the user made
   * either. Kept, it was repeated on the undone text: `data` renamed `frame`, undone to `fr`, and
   * `frame` was proposed at `data`'s other places.
   */
  undoLast(cellId: string, source: string, redo = false): void {
    const events = this._events;
    let index = events.length - 1;
    while (index >= 0 && events[index].cell_id !== cellId) {
      index--;
    }
    const last = events[index];
    const undone =
      last !== undefined &&
      (last.before === source || (!redo && this._sources.get(cellId) === last.after));
    if (undone) {
      events.splice(index, 1);
    }
    this._sources.set(cellId, source);
    this._sealed = false;
  }

  forget(cellId: string): void {
    this._sources.delete(cellId);
  }

  get events(): EditEvent[] {
    return this._events.map(e => ({ ...e }));
  }

  private _sources = new Map<string, string>();
  private _events: EditEvent[] = [];
  private _lastAt = 0;
  private _sealed = false;
}
