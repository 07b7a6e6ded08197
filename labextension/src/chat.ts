/**
 * The chat panel: ask a foundation model about the active notebook, watch the answer stream,
 * see exactly what context was sent, stop it, and apply its code blocks to the notebook.
 */
import { MimeModel, IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { CodeMirrorEditor } from '@jupyterlab/codemirror';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { CursorConnection, RequestCancelled, RequestError } from './connection';
import { ChatProviders, ChatSelection, SentItem, notebookCells } from './protocol';

/** Said wherever a foundation model is needed and none is configured. */
export const NO_CHAT_MODEL =
  'No chat model is configured. An administrator sets c.CursorApp.providers (see the README).';

/** The configured chat providers and the default one, as the server lists them. */
export function chatProviders(connection: CursorConnection): Promise<ChatProviders> {
  return connection.request('chat_providers', {}).result;
}

/**
 * A fenced code block of an answer, as the apply engine wants it: `markdown` is the fence with the
 * paragraph that introduces it ("Add a new cell after …:", "Here is the updated `utils.py`:"),
 * which says where the block goes.
 */
export type CodeBlock = { info: string; code: string; markdown: string };

export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const fence = /^(```+|~~~+)([^\n]*)\n([\s\S]*?)^\1[ \t]*$/gm;
  let match: RegExpExecArray | null;
  let end = 0;
  while ((match = fence.exec(markdown)) !== null) {
    const prose =
      markdown
        .slice(end, match.index)
        .trim()
        .split(/\n\s*\n/)
        .pop() ?? '';
    blocks.push({
      info: match[2].trim(),
      code: match[3],
      markdown: prose ? `${prose}\n\n${match[0]}` : match[0]
    });
    end = match.index + match[0].length;
  }
  return blocks;
}

/**
 * Blocks an answer shows to be run or copied, not cell code: no Apply button (the server's apply
 * refuses them too: NOT_CELL_LANGUAGES in jupyter_cursor/apply/answer.py). A SEARCH/REPLACE block
 * or a diff under such a tag is an edit all the same.
 */
const NOT_CELL_LANGUAGES = new Set([
  'bash', 'sh', 'shell', 'zsh', 'console', 'shell-session', 'powershell', 'ps1', 'bat', 'cmd',
  'text', 'txt', 'plaintext', 'output', 'log', 'json', 'jsonl', 'yaml', 'yml', 'toml', 'ini',
  'cfg', 'conf', 'csv', 'tsv', 'dockerfile', 'requirements', 'pip'
]); // prettier-ignore
const EDIT_MARKUP = /^(\s{0,3}<{5,9} ?(SEARCH|ORIGINAL)\b|@@ .* @@|--- \S)/m;

/** Whether Apply can make cell edits of a block (or it is one to copy). */
export function isApplicable(block: CodeBlock): boolean {
  const language = block.info.split(/\s+/)[0].toLowerCase();
  return !NOT_CELL_LANGUAGES.has(language) || EDIT_MARKUP.test(block.code);
}

/** A block's first line naming its cell, as the chat prompt asks models to write it. */
const CELL_HEADER = /^\s*(?:#|\/\/|<!--)\s*cell(?:\s*:\s*|\s+)(.+?)\s*(?:-->)?\s*$/i;

function withoutCellHeader(code: string): string {
  const [first, ...rest] = code.split('\n');
  return CELL_HEADER.test(first) ? rest.join('\n') : code;
}

/** The 1-based position of a notebook cell, as JupyterLab numbers them; null if not found. */
function cellNumber(panel: NotebookPanel | null, id: string): number | null {
  const index = panel ? panel.content.widgets.findIndex(cell => cell.model.id === id) : -1;
  return index >= 0 ? index + 1 : null;
}

/**
 * `markdown` with each code block's `# cell: …` line turned into a caption above the block
 * ("Cell 3", "New cell after cell 3", "Delete cell 3"); the blocks stay in number and order.
 */
export function withCellCaptions(
  markdown: string,
  numberOf: (id: string) => number | null
): string {
  const name = (id: string) => {
    const n = numberOf(id);
    return n === null ? `cell \`${id}\`` : `cell ${n}`;
  };
  return markdown.replace(
    /^(```+|~~~+)([^\n]*)\n([^\n]*)\n/gm,
    (whole, fence: string, info: string, first: string) => {
      const header = CELL_HEADER.exec(first);
      if (!header) {
        return whole;
      }
      const what = header[1].trim();
      const words = what.split(/\s+/);
      let caption: string;
      if (words[0].toLowerCase() === 'new') {
        caption = words.length >= 3 ? `New cell ${words[1]} ${name(words[2])}` : 'New cell';
      } else if (words[0].toLowerCase() === 'delete' && words[1]) {
        caption = `Delete ${name(words[1])}`;
      } else {
        caption = /^\d+$/.test(what) ? `Cell ${what}` : name(what).replace(/^c/, 'C');
      }
      return `*${caption}:*\n\n${fence}${info}\n`;
    }
  );
}

/** A cell as the `@` popup offers it: "Cell 3: its first line". */
export type CellChoice = { number: number; line: string };

/**
 * The cells the `@` popup offers for what was typed after the `@` (`3`, `cell:3`, `read_csv`): by
 * number, or by what their first line holds; all when nothing was typed yet.
 */
export function cellChoices(sources: string[], typed: string): CellChoice[] {
  const query = typed.toLowerCase().replace(/^cell:?/, '');
  return sources
    .map((source, index) => {
      const first = source.split('\n').find(line => line.trim());
      return { number: index + 1, line: first?.trim() ?? '(empty)' };
    })
    .filter(
      choice =>
        !query ||
        String(choice.number).startsWith(query) ||
        choice.line.toLowerCase().includes(query)
    );
}

const RENDER_INTERVAL_MS = 80;

/**
 * The kinds of context item the user can remove from the next messages of a chat (REMOVABLE in
 * jupyter_cursor/chat/context.py); the others (the selection, the `@` mentions) they chose.
 */
export const REMOVABLE_KINDS = new Set(['variables', 'notebook', 'history', 'retrieved']);

export class ChatPanel extends Widget {
  constructor(
    private readonly connection: CursorConnection,
    private readonly notebooks: INotebookTracker,
    private readonly rendermime: IRenderMimeRegistry,
    private readonly onApply: (panel: NotebookPanel, suggestion: string) => Promise<void>
  ) {
    super();
    this.id = 'jupyter-cursor-chat';
    this.addClass('jp-CursorChat');
    this.title.caption = 'Cursor chat';
    this.title.label = 'Chat';

    const header = document.createElement('div');
    header.className = 'jp-CursorChat-header';
    this.providerSelect = document.createElement('select');
    this.providerSelect.className = 'jp-CursorChat-provider';
    this.providerSelect.setAttribute('aria-label', 'Model');
    const newChat = document.createElement('button');
    newChat.className = 'jp-CursorChat-new jp-Button';
    newChat.textContent = 'New chat';
    newChat.addEventListener('click', () => this.newChat());
    header.append(this.providerSelect, newChat);

    // Outside the log, which every history load and new chat clears.
    this.setup = document.createElement('div');
    this.setup.className = 'jp-CursorChat-setup';
    this.setup.setAttribute('role', 'status');
    this.setup.textContent = NO_CHAT_MODEL;
    this.setup.hidden = true;

    this.log = document.createElement('div');
    this.log.className = 'jp-CursorChat-log';
    this.log.setAttribute('aria-live', 'polite');

    const footer = document.createElement('div');
    footer.className = 'jp-CursorChat-footer';
    this.input = document.createElement('textarea');
    this.input.className = 'jp-CursorChat-input';
    this.input.placeholder =
      'Ask about this notebook (Enter to send, Shift+Enter for a new line; @ names a cell, @file:<path> a file)';
    this.input.rows = 3;
    // Typing `@` offers the notebook's cells by number; the one chosen is written `@cell:3`.
    this.mentions = document.createElement('div');
    this.mentions.className = 'jp-CursorChat-mentions';
    this.mentions.setAttribute('role', 'listbox');
    this.mentions.setAttribute('aria-label', 'Cells');
    this.mentions.hidden = true;
    this.input.addEventListener('input', () => this._offerCells());
    this.input.addEventListener('blur', () => this._closeMentions());
    this.input.addEventListener('keydown', event => {
      if (!this.mentions.hidden && this._mentionKey(event)) {
        event.preventDefault();
      } else if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        void this.send();
      } else if (event.key === 'Escape' && this.inflight) {
        this.stop();
      }
    });
    this.sendButton = document.createElement('button');
    this.sendButton.className = 'jp-CursorChat-send jp-Button';
    this.sendButton.textContent = 'Send';
    this.sendButton.addEventListener('click', () =>
      this.inflight ? this.stop() : void this.send()
    );
    footer.append(this.mentions, this.input, this.sendButton);
    this.node.append(header, this.setup, this.log, footer);

    notebooks.currentChanged.connect(() => void this._loadHistory());
    connection.stateChanged.connect((_, state) => {
      if (state === 'open') {
        void this._loadProviders();
        void this._loadHistory();
      }
    });
    if (connection.state === 'open') {
      void this._loadProviders();
    }
  }

  /** Opened from its sidebar tab or the command: the question box takes the keyboard. */
  protected onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    this.input.focus();
  }

  newChat(): void {
    this.stop();
    this.epoch++;
    this.sessionId = null;
    this.excluded.clear();
    this.log.replaceChildren();
    this.input.focus();
  }

  stop(): void {
    if (this.inflight) {
      this.connection.cancel(this.inflight);
    }
  }

  async send(): Promise<void> {
    const message = this.input.value.trim();
    const panel = this.notebooks.currentWidget;
    if (!message || this.inflight) {
      return;
    }
    if (!panel) {
      this._notice('Open a notebook to chat about it.');
      return;
    }
    this.input.value = '';
    this.epoch++;
    this._appendMessage('user', message);
    const answer = this._appendMessage('assistant', '');
    answer.classList.add('jp-mod-streaming');
    const sentList = document.createElement('details');
    sentList.className = 'jp-CursorChat-sent';
    answer.before(sentList);

    let text = '';
    let timer = 0;
    const render = () => {
      timer = 0;
      void this._render(answer, text, panel);
    };
    const { id, result } = this.connection.request(
      'chat',
      {
        path: panel.context.path,
        message,
        cells: notebookCells(panel),
        session_id: this.sessionId,
        selection: this._selection(panel),
        provider: this.providerSelect.value || null,
        exclude: [...this.excluded]
      },
      data => {
        if (data.type === 'context') {
          this.sessionId = data.session_id;
          this._renderSent(sentList, data.sent, data.dropped);
        } else if (data.type === 'delta') {
          text += data.text;
          if (!timer) {
            timer = window.setTimeout(render, RENDER_INTERVAL_MS);
          }
        }
      }
    );
    this._setInflight(id);
    try {
      const done = await result;
      this.sessionId = done.session_id ?? this.sessionId;
    } catch (error) {
      if (error instanceof RequestCancelled) {
        text += '\n\n*(stopped)*';
      } else {
        const code = error instanceof RequestError ? error.code : 'error';
        answer.classList.add('jp-mod-error');
        text += `\n\n**${code}**: ${(error as Error).message}`;
      }
    } finally {
      window.clearTimeout(timer);
      answer.classList.remove('jp-mod-streaming');
      await this._render(answer, text, panel);
      if (answer.classList.contains('jp-mod-error')) {
        // What went wrong is seen, however long the conversation: the answer ends the log.
        this.log.scrollTop = this.log.scrollHeight;
      }
      this._setInflight(null);
    }
  }

  /** The `@` being typed at the cursor, where it starts and what follows it; null if none. */
  private _mentionAtCursor(): { start: number; typed: string } | null {
    const before = this.input.value.slice(0, this.input.selectionStart ?? 0);
    const match = /(?:^|\s)@([^\s@]*)$/.exec(before);
    if (!match || /^file:/i.test(match[1])) {
      return null;
    }
    return { start: before.length - match[1].length - 1, typed: match[1] };
  }

  private _offerCells(): void {
    const panel = this.notebooks.currentWidget;
    const mention = this._mentionAtCursor();
    const sources = panel
      ? panel.content.widgets.map(cell => cell.model.sharedModel.getSource())
      : [];
    const choices = mention ? cellChoices(sources, mention.typed) : [];
    if (!choices.length) {
      this._closeMentions();
      return;
    }
    this.mentions.replaceChildren(
      ...choices.map(choice => {
        const option = document.createElement('div');
        option.className = 'jp-CursorChat-mention';
        option.setAttribute('role', 'option');
        option.dataset.number = String(choice.number);
        option.textContent = `Cell ${choice.number}: ${choice.line}`;
        option.title = option.textContent;
        // mousedown, not click: the box keeps the focus (a blur closes the popup)
        option.addEventListener('mousedown', event => {
          event.preventDefault();
          this._chooseCell(choice.number);
        });
        return option;
      })
    );
    this.mentions.hidden = false;
    this._highlightMention(0);
  }

  /** A key while the popup is open; true when the popup took it. */
  private _mentionKey(event: KeyboardEvent): boolean {
    const options = Array.from(this.mentions.children) as HTMLElement[];
    const current = options.findIndex(option => option.getAttribute('aria-selected') === 'true');
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      const step = event.key === 'ArrowDown' ? 1 : -1;
      this._highlightMention((current + step + options.length) % options.length);
    } else if ((event.key === 'Enter' || event.key === 'Tab') && !event.shiftKey) {
      this._chooseCell(Number(options[Math.max(current, 0)].dataset.number));
    } else if (event.key === 'Escape') {
      this._closeMentions();
    } else {
      return false;
    }
    return true;
  }

  private _highlightMention(index: number): void {
    Array.from(this.mentions.children).forEach((option, i) => {
      option.setAttribute('aria-selected', String(i === index));
      if (i === index) {
        option.scrollIntoView({ block: 'nearest' });
      }
    });
  }

  /** The `@…` being typed becomes `@cell:<number> `, which the server reads as that cell. */
  private _chooseCell(number: number): void {
    const mention = this._mentionAtCursor();
    if (mention) {
      const end = this.input.selectionStart ?? mention.start;
      const reference = `@cell:${number} `;
      this.input.setRangeText(reference, mention.start, end, 'end');
    }
    this._closeMentions();
    this.input.focus();
  }

  private _closeMentions(): void {
    this.mentions.hidden = true;
    this.mentions.replaceChildren();
  }

  private _selection(panel: NotebookPanel): ChatSelection | null {
    const cell = panel.content.activeCell;
    if (!cell) {
      return null;
    }
    const editor = cell.editor;
    if (editor instanceof CodeMirrorEditor) {
      const { from, to } = editor.editor.state.selection.main;
      if (from !== to) {
        return { cell_id: cell.model.id, start: from, end: to };
      }
    }
    return { cell_id: cell.model.id };
  }

  private async _render(
    node: HTMLElement,
    markdown: string,
    panel: NotebookPanel | null
  ): Promise<void> {
    const renderer = this.rendermime.createRenderer('text/markdown');
    const streaming = node.classList.contains('jp-mod-streaming');
    // The blocks' `# cell: <id>` lines are for apply; the reader sees "Cell 3" above the block.
    const shown = streaming ? markdown : withCellCaptions(markdown, id => cellNumber(panel, id));
    await renderer.renderModel(new MimeModel({ data: { 'text/markdown': shown || '…' } }));
    node.replaceChildren(renderer.node);
    if (streaming) {
      return;
    }
    // Copy on each code block of a finished answer; Apply on those that are cell code.
    const blocks = codeBlocks(markdown);
    const pres = Array.from(renderer.node.querySelectorAll('pre'));
    pres.forEach((pre, index) => {
      const block = blocks[index];
      if (!block) {
        return;
      }
      const actions = document.createElement('div');
      actions.className = 'jp-CursorChat-blockActions';
      const copy = document.createElement('button');
      copy.className = 'jp-CursorChat-copy jp-Button';
      copy.textContent = 'Copy';
      copy.title = 'Copy this block';
      copy.addEventListener('click', () => {
        const text = withoutCellHeader(block.code).replace(/\n$/, '');
        void navigator.clipboard.writeText(text).then(
          () => (copy.textContent = 'Copied'),
          () => (copy.textContent = 'Copy failed')
        );
      });
      actions.append(copy);
      if (panel && isApplicable(block)) {
        const button = document.createElement('button');
        button.className = 'jp-CursorChat-apply jp-Button';
        button.textContent = 'Apply';
        button.title = 'Turn this block into cell edits to review';
        button.addEventListener('click', () => {
          button.disabled = true;
          void this.onApply(panel, block.markdown).finally(() => (button.disabled = false));
        });
        actions.append(button);
      }
      pre.after(actions);
    });
  }

  /**
   * The context list of a question: what was sent and what was left out, and why. An item of a
   * removable kind has a button that leaves its kind out of the next messages (or brings it back).
   */
  private _renderSent(node: HTMLDetailsElement, sent: SentItem[], dropped: SentItem[] = []): void {
    const summary = document.createElement('summary');
    const chars = sent.reduce((total, item) => total + (item.chars ?? 0), 0);
    summary.textContent = `Context sent: ${sent.length} items, ${chars.toLocaleString()} characters`;
    const list = document.createElement('ul');
    for (const item of [...sent, ...dropped]) {
      const li = document.createElement('li');
      li.dataset.kind = item.kind;
      const text = document.createElement('span');
      text.textContent = `${item.kind}: ${item.label}`;
      if (item.reason) {
        li.className = 'jp-mod-dropped';
        text.textContent = `left out (${item.reason === 'removed' ? 'removed by you' : item.reason}): ${text.textContent}`;
      }
      li.append(text);
      if (REMOVABLE_KINDS.has(item.kind)) {
        li.append(this._removeButton(item.kind));
      }
      list.appendChild(li);
    }
    node.replaceChildren(summary, list);
  }

  /** Remove (or restore) a kind of context item for the next messages of this chat. */
  private _removeButton(kind: string): HTMLButtonElement {
    const button = document.createElement('button');
    button.className = 'jp-CursorChat-remove jp-Button';
    button.dataset.kind = kind;
    button.addEventListener('click', () => {
      if (!this.excluded.delete(kind)) {
        this.excluded.add(kind);
      }
      this._showRemoved();
    });
    this._showRemoved([button]);
    return button;
  }

  /** The remove buttons (all of the log's, by default) say whether their kind is removed. */
  private _showRemoved(
    buttons: HTMLButtonElement[] = Array.from(
      this.log.querySelectorAll<HTMLButtonElement>('.jp-CursorChat-remove')
    )
  ): void {
    for (const button of buttons) {
      const removed = this.excluded.has(button.dataset.kind ?? '');
      button.textContent = removed ? 'Restore' : 'Remove';
      button.title = removed
        ? 'Send this again with the next messages'
        : 'Leave this out of the next messages of this chat';
      button.setAttribute('aria-pressed', String(removed));
    }
  }

  private _appendMessage(role: string, text: string): HTMLElement {
    const node = document.createElement('div');
    node.className = `jp-CursorChat-message jp-mod-${role}`;
    node.textContent = text;
    this.log.appendChild(node);
    this.log.scrollTop = this.log.scrollHeight;
    return node;
  }

  private _notice(text: string): void {
    const node = this._appendMessage('notice', text);
    node.setAttribute('role', 'status');
  }

  private _setInflight(id: string | null): void {
    this.inflight = id;
    this.sendButton.textContent = id ? 'Stop' : 'Send';
    this.node.classList.toggle('jp-mod-busy', id !== null);
  }

  private async _loadProviders(): Promise<void> {
    try {
      const info = await chatProviders(this.connection);
      this.providerSelect.replaceChildren(
        ...info.providers.map(p => {
          const option = document.createElement('option');
          option.value = p.name;
          option.textContent = p.label || `${p.name}${p.model ? ` (${p.model})` : ''}`;
          option.disabled = p.available === false;
          option.title = p.reason ?? '';
          option.selected = p.name === info.default;
          return option;
        })
      );
      const none = info.providers.length === 0;
      this.setup.hidden = !none;
      this.setup.textContent = info.error
        ? `The chat model's configuration is invalid: ${info.error}. Fix c.CursorApp.providers (see the README) and restart the server.`
        : NO_CHAT_MODEL;
      this.setup.classList.toggle('jp-mod-error', !!info.error);
      this.providerSelect.disabled = none;
      this.input.disabled = none;
      this.sendButton.disabled = none;
    } catch (error) {
      console.warn('jupyter_cursor: cannot list chat providers', error);
    }
  }

  private async _loadHistory(): Promise<void> {
    const panel = this.notebooks.currentWidget;
    if (!panel || this.inflight || this.connection.state !== 'open') {
      return;
    }
    // A question asked (or a new chat begun) while the history loads wins: the history must not
    // wipe it when its reply arrives late.
    const epoch = ++this.epoch;
    const stale = () => this.epoch !== epoch || this.notebooks.currentWidget !== panel;
    await panel.context.ready;
    const path = panel.context.path;
    try {
      const { sessions } = await this.connection.request('chat_sessions', { path }).result;
      if (stale()) {
        return;
      }
      this.log.replaceChildren();
      this.excluded.clear(); // what was removed from another notebook's chat
      this.sessionId = sessions.length ? sessions[0].id : null;
      if (!this.sessionId) {
        return;
      }
      const { messages } = await this.connection.request('chat_history', {
        session_id: this.sessionId
      }).result;
      if (stale()) {
        return;
      }
      for (const message of messages) {
        const node = this._appendMessage(message.role, '');
        await this._render(node, message.content, message.role === 'assistant' ? panel : null);
      }
    } catch (error) {
      console.warn('jupyter_cursor: cannot load chat history', error);
    }
  }

  private providerSelect: HTMLSelectElement;
  private setup: HTMLElement;
  private log: HTMLElement;
  private input: HTMLTextAreaElement;
  private mentions: HTMLElement;
  private sendButton: HTMLButtonElement;
  private sessionId: string | null = null;
  /** The kinds of context item the user removed from this chat's next messages. */
  private excluded = new Set<string>();
  private inflight: string | null = null;
  /** Bumped by every send, new chat and history load: a load that sees it change is stale. */
  private epoch = 0;
}
