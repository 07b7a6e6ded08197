/**
 * The CodeMirror side of a next-edit suggestion shown away from the cursor: deleted text struck
 * through, inserted text as ghost text, a marker on the line. The suggestion lives in a StateField
 * so that it moves with the document; typing that agrees with it consumes it, anything else in
 * the same editor drops it.
 */
import { Extension, Prec, StateEffect, StateField } from '@codemirror/state';
import { Decoration, DecorationSet, EditorView, WidgetType } from '@codemirror/view';

import { Change, consumeTyping } from './diff';

export type DiffStyle = 'inline' | 'insertions';

export type ShownSuggestion = { change: Change; style: DiffStyle };

export const setSuggestion = StateEffect.define<ShownSuggestion | null>();

class GhostText extends WidgetType {
  constructor(readonly text: string) {
    super();
  }

  eq(other: GhostText): boolean {
    return other.text === this.text;
  }

  toDOM(): HTMLElement {
    const span = document.createElement('span');
    span.className = 'jp-CursorNextEdit-insert';
    span.textContent = this.text;
    return span;
  }

  ignoreEvent(): boolean {
    return false;
  }
}

function decorate(shown: ShownSuggestion | null, view: { doc: { length: number; lineAt: (pos: number) => { from: number } } }): DecorationSet {
  if (!shown) {
    return Decoration.none;
  }
  const { change, style } = shown;
  if (change.to > view.doc.length) {
    return Decoration.none;
  }
  const ranges = [Decoration.line({ class: 'jp-CursorNextEdit-line' }).range(view.doc.lineAt(change.from).from)];
  if (change.to > change.from && style === 'inline') {
    ranges.push(
      Decoration.mark({ class: 'jp-CursorNextEdit-delete' }).range(change.from, change.to)
    );
  }
  if (change.insert) {
    ranges.push(Decoration.widget({ widget: new GhostText(change.insert), side: 1 }).range(change.to));
  }
  return Decoration.set(ranges, true);
}

export const suggestionField = StateField.define<ShownSuggestion | null>({
  create: () => null,
  update(value, tr) {
    for (const effect of tr.effects) {
      if (effect.is(setSuggestion)) {
        return effect.value;
      }
    }
    if (!value || !tr.docChanged) {
      return value;
    }
    let edits = 0;
    let rest: Change | null = null;
    tr.changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
      edits++;
      rest = fromA === toA ? consumeTyping(value.change, fromA, inserted.toString()) : null;
    });
    return edits === 1 && rest ? { change: rest, style: value.style } : null;
  },
  provide: field =>
    EditorView.decorations.compute([field, 'doc'], state => decorate(state.field(field), state))
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
