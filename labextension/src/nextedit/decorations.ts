/**
 * The CodeMirror side of a next-edit suggestion shown away from the cursor: deleted text struck
 * through, inserted text as ghost text, a marker on the line. The suggestion lives in a StateField
 * so that it moves with the document; typing that agrees with it consumes it, anything else in
 * the same editor drops it.
 */
import {
  EditorState,
  Extension,
  Prec,
  StateEffect,
  StateEffectType,
  StateField,
  Transaction
} from '@codemirror/state';
import { Decoration, DecorationSet, EditorView, WidgetType } from '@codemirror/view';

import { Change, consumeTyping } from './diff';

export type DiffStyle = 'inline' | 'insertions';

/** The hunks of one cell's suggestion, in order, positions in the current text. */
export type ShownSuggestion = { hunks: Change[]; style: DiffStyle };

export const setSuggestion = StateEffect.define<ShownSuggestion | null>();

/** Text drawn into the editor that is not in the document: ghost text, the jump hint. */
class TextWidget extends WidgetType {
  constructor(
    readonly text: string,
    readonly className: string
  ) {
    super();
  }

  eq(other: TextWidget): boolean {
    return other.text === this.text && other.className === this.className;
  }

  toDOM(): HTMLElement {
    const span = document.createElement('span');
    span.className = this.className;
    span.textContent = this.text;
    return span;
  }

  ignoreEvent(): boolean {
    return false;
  }
}

function decorate(shown: ShownSuggestion | null, state: EditorState): DecorationSet {
  if (!shown || shown.hunks.length === 0) {
    return Decoration.none;
  }
  const { hunks, style } = shown;
  if (hunks[hunks.length - 1].to > state.doc.length) {
    return Decoration.none;
  }
  const ranges = [];
  const lines = new Set<number>();
  for (const hunk of hunks) {
    for (let pos = hunk.from; ;) {
      const line = state.doc.lineAt(pos);
      lines.add(line.from);
      if (line.to >= hunk.to) {
        break;
      }
      pos = line.to + 1;
    }
    if (hunk.to > hunk.from && style === 'inline') {
      ranges.push(Decoration.mark({ class: 'jp-CursorNextEdit-delete' }).range(hunk.from, hunk.to));
    }
    if (hunk.insert) {
      const ghost = new TextWidget(hunk.insert, 'jp-CursorNextEdit-insert');
      ranges.push(Decoration.widget({ widget: ghost, side: 1 }).range(hunk.to));
    }
  }
  for (const from of lines) {
    ranges.push(Decoration.line({ class: 'jp-CursorNextEdit-line' }).range(from));
  }
  return Decoration.set(ranges, true);
}

/** What the transaction sets with `type`: the last such effect's value, or undefined. */
function setBy<T>(tr: Transaction, type: StateEffectType<T>): T | undefined {
  let value: T | undefined;
  for (const effect of tr.effects) {
    if (effect.is(type)) {
      value = effect.value;
    }
  }
  return value;
}

export const suggestionField = StateField.define<ShownSuggestion | null>({
  create: () => null,
  update(value, tr) {
    const set = setBy(tr, setSuggestion);
    if (set !== undefined) {
      return set;
    }
    if (!value || !tr.docChanged) {
      return value;
    }
    // Typing into a single pure insertion consumes it; any other edit drops the suggestion.
    if (value.hunks.length !== 1) {
      return null;
    }
    let edits = 0;
    let rest: Change | null = null;
    tr.changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
      edits++;
      rest = fromA === toA ? consumeTyping(value.hunks[0], fromA, inserted.toString()) : null;
    });
    return edits === 1 && rest ? { hunks: [rest], style: value.style } : null;
  },
  provide: field =>
    EditorView.decorations.compute([field, 'doc'], state => decorate(state.field(field), state))
});

/**
 * A note at the end of the cursor's line while the suggestion is in another cell ("Tab ⇥ ↑
 * import pandas as pd"): that cell may be out of view, and Tab goes there. Typing drops it.
 */
export const setJumpHint = StateEffect.define<string | null>();

export const jumpHintField = StateField.define<string | null>({
  create: () => null,
  update(value, tr) {
    const set = setBy(tr, setJumpHint);
    return set !== undefined ? set : tr.docChanged ? null : value;
  },
  provide: field =>
    EditorView.decorations.compute([field, 'selection'], state => {
      const text = state.field(field);
      if (!text) {
        return Decoration.none;
      }
      const line = state.doc.lineAt(state.selection.main.head);
      const widget = new TextWidget(text, 'jp-CursorNextEdit-jumpHint');
      return Decoration.set([Decoration.widget({ widget, side: 1 }).range(line.to)]);
    })
});

export function shownSuggestion(view: EditorView): ShownSuggestion | null {
  return view.state.field(suggestionField, false) ?? null;
}

/**
 * While a suggestion is shown in the document (the marker class on it), Tab and Escape go to
 * JupyterLab's command registry before CodeMirror sees them: CodeMirror would otherwise indent
 * or insert a tab first (it does at the start of a line, where a jump lands), and a key it
 * handles never reaches the registry. The registry runs whatever the shortcuts bind (those of
 * schema/plugin.json, which users can rebind); a key it does not bind stays CodeMirror's.
 */
export function keysToCommands(commands: {
  processKeydownEvent(event: KeyboardEvent): void;
}): Extension {
  return Prec.highest(
    EditorView.domEventHandlers({
      keydown: (event, view) => {
        if (
          (event.key !== 'Tab' && event.key !== 'Escape') ||
          view.dom.closest('.jp-mod-cursorNextEdit') === null
        ) {
          return false;
        }
        commands.processKeydownEvent(event);
        return event.defaultPrevented;
      }
    })
  );
}
