/**
 * "Search workspace…": a side-bar panel over /jupyter-cursor/search that opens a hit at its cell
 * (notebooks) or line (files).
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { searchIcon } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { SearchHit, SearchMode } from './protocol';

const SNIPPET_LINES = 4;

/**
 * The hit's snippet (the lines around its first matched word) as DOM nodes: text nodes, with each
 * matched word in a `mark`. Indexed text never goes through innerHTML.
 */
export function snippetNodes(text: string, matched: string[]): Node[] {
  const lines = text.split('\n');
  const words = matched.filter(word => word.length > 0);
  // Whole words only (`df` must not light up inside `pdf`), longest first.
  const pattern = words.length
    ? new RegExp(
        `(?<![\\p{L}\\p{N}_])(?:${words
          .sort((a, b) => b.length - a.length)
          .map(word => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('|')})(?![\\p{L}\\p{N}_])`,
        'gu'
      )
    : null;
  const first = pattern ? lines.findIndex(line => line.search(pattern) >= 0) : -1;
  const start = Math.max(0, Math.min(first - 1, lines.length - SNIPPET_LINES));
  const snippet = lines.slice(start, start + SNIPPET_LINES).join('\n');
  if (!pattern) {
    return [document.createTextNode(snippet)];
  }
  const nodes: Node[] = [];
  let last = 0;
  for (const match of snippet.matchAll(pattern)) {
    const at = match.index ?? 0;
    if (at > last) {
      nodes.push(document.createTextNode(snippet.slice(last, at)));
    }
    const mark = document.createElement('mark');
    mark.className = 'jp-CursorSearch-match';
    mark.textContent = match[0];
    nodes.push(mark);
    last = at + match[0].length;
  }
  if (last < snippet.length) {
    nodes.push(document.createTextNode(snippet.slice(last)));
  }
  return nodes;
}

export async function searchWorkspace(
  settings: ServerConnection.ISettings,
  query: string,
  mode: SearchMode,
  k = 20,
  signal?: AbortSignal
): Promise<SearchHit[]> {
  const params = new URLSearchParams({ q: query, k: String(k), mode });
  const url = URLExt.join(settings.baseUrl, 'jupyter-cursor', 'search') + `?${params}`;
  const response = await ServerConnection.makeRequest(url, { signal }, settings);
  const body = await response.json();
  if (!response.ok) {
    throw new Error(body?.message ?? `search failed (HTTP ${response.status})`);
  }
  return body.hits as SearchHit[];
}

/** Open `hit` in JupyterLab: the notebook scrolled to its cell, or the file at its line. */
export async function openHit(app: JupyterFrontEnd, hit: SearchHit): Promise<void> {
  const widget: any = await app.commands.execute('docmanager:open', { path: hit.path });
  if (!widget) {
    return;
  }
  await widget.context?.ready;
  const content = widget.content;
  if (content?.widgets && hit.cell_index !== null) {
    // A notebook: find the cell by its id first (the index may have moved since indexing).
    const cells: any[] = content.widgets;
    let index = cells.findIndex(cell => cell.model.id === hit.cell_id);
    if (index < 0) {
      index = Math.min(hit.cell_index, cells.length - 1);
    }
    content.activeCellIndex = index;
    await content.scrollToItem?.(index, 'center');
    const editor = cells[index]?.editor;
    if (editor && hit.start_line > 1) {
      editor.setCursorPosition({ line: hit.start_line - 1, column: 0 });
    }
  } else if (content?.editor) {
    content.editor.setCursorPosition({ line: Math.max(hit.start_line - 1, 0), column: 0 });
    content.editor.revealPosition?.({ line: Math.max(hit.start_line - 1, 0), column: 0 });
    content.editor.focus();
  }
}

const DEBOUNCE_MS = 150;

export class SearchPanel extends Widget {
  constructor(
    private readonly app: JupyterFrontEnd,
    private readonly settings: ServerConnection.ISettings
  ) {
    super();
    this.id = 'jupyter-cursor-search';
    this.addClass('jp-CursorSearch');
    this.title.icon = searchIcon;
    this.title.caption = 'Search workspace';

    const bar = document.createElement('div');
    bar.className = 'jp-CursorSearch-bar';
    this.input = document.createElement('input');
    this.input.type = 'search';
    this.input.placeholder = 'Search workspace…';
    this.input.className = 'jp-CursorSearch-input';
    this.input.setAttribute('aria-label', 'Search workspace');
    this.mode = document.createElement('select');
    this.mode.className = 'jp-CursorSearch-mode';
    this.mode.setAttribute('aria-label', 'Search mode');
    for (const mode of ['hybrid', 'bm25', 'embedding']) {
      const option = document.createElement('option');
      option.value = option.textContent = mode;
      this.mode.appendChild(option);
    }
    bar.append(this.input, this.mode);
    this.message = document.createElement('div');
    this.message.className = 'jp-CursorSearch-message';
    this.results = document.createElement('ul');
    this.results.className = 'jp-CursorSearch-results';
    this.results.setAttribute('role', 'listbox');
    this.node.append(bar, this.message, this.results);

    this.input.addEventListener('input', () => this._schedule());
    this.mode.addEventListener('change', () => this._schedule(0));
    this.input.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        const first = this.results.querySelector('li');
        if (first) {
          (first as HTMLElement).click();
        }
      } else if (event.key === 'ArrowDown') {
        (this.results.querySelector('li') as HTMLElement | null)?.focus();
        event.preventDefault();
      }
    });
  }

  /** Opened from its sidebar tab or the command: the query box takes the keyboard. */
  protected onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    this._focusInput();
  }

  /** Focus the box; while the panel is still being shown (focus then fails), on the next frames. */
  private _focusInput(frames = 10): void {
    this.input.focus();
    this.input.select();
    if (document.activeElement !== this.input && frames > 0) {
      requestAnimationFrame(() => this._focusInput(frames - 1));
    }
  }

  private _schedule(delay = DEBOUNCE_MS): void {
    window.clearTimeout(this._timer);
    this._timer = window.setTimeout(() => void this._run(), delay);
  }

  private async _run(): Promise<void> {
    const query = this.input.value.trim();
    this._abort?.abort();
    if (!query) {
      this.results.replaceChildren();
      this.message.textContent = '';
      return;
    }
    const abort = (this._abort = new AbortController());
    this.message.textContent = 'Searching…';
    try {
      const hits = await searchWorkspace(
        this.settings,
        query,
        this.mode.value as SearchMode,
        20,
        abort.signal
      );
      if (abort.signal.aborted) {
        return;
      }
      this.message.textContent = hits.length ? '' : 'No results';
      this.results.replaceChildren(...hits.map(hit => this._renderHit(hit)));
    } catch (error) {
      if (!abort.signal.aborted) {
        this.message.textContent = `Search failed: ${(error as Error).message}`;
        this.results.replaceChildren();
      }
    }
  }

  private _renderHit(hit: SearchHit): HTMLElement {
    const item = document.createElement('li');
    item.className = 'jp-CursorSearch-hit';
    item.tabIndex = 0;
    item.setAttribute('role', 'option');
    const where = document.createElement('div');
    where.className = 'jp-CursorSearch-where';
    where.textContent = hit.path;
    // Where in the file, and why it matched: the cell number, then the matched words in the text.
    const place = document.createElement('span');
    place.className = 'jp-CursorSearch-cell';
    place.textContent =
      hit.cell_index !== null ? ` · cell ${hit.cell_index + 1}` : `:${hit.start_line}`;
    where.append(place);
    where.title = hit.matched.length ? `matched: ${hit.matched.join(', ')}` : 'matched by meaning';
    const text = document.createElement('pre');
    text.className = 'jp-CursorSearch-text';
    text.append(...snippetNodes(hit.text, hit.matched));
    item.append(where, text);
    const open = () => void openHit(this.app, hit);
    item.addEventListener('click', open);
    item.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        open();
      } else if (event.key === 'ArrowDown') {
        (item.nextElementSibling as HTMLElement | null)?.focus();
        event.preventDefault();
      } else if (event.key === 'ArrowUp') {
        ((item.previousElementSibling as HTMLElement | null) ?? this.input).focus();
        event.preventDefault();
      }
    });
    return item;
  }

  private input: HTMLInputElement;
  private mode: HTMLSelectElement;
  private message: HTMLElement;
  private results: HTMLUListElement;
  private _timer = 0;
  private _abort: AbortController | null = null;
}
