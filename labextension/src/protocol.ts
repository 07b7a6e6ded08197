/**
 * The wire protocol as the frontend sees it: the envelope of the one websocket
 * (jupyter_cursor/protocol.py) and, for each request type the frontend sends, its fields, its
 * streamed partials and its result (the request dataclasses in jupyter_cursor/<service>/protocol.py,
 * the answers their methods build). `CursorConnection.request` takes its types from `Requests`.
 */
import type { NotebookPanel } from '@jupyterlab/notebook';

// -- shared shapes ---------------------------------------------------------------------------------

export type CellType = 'code' | 'markdown' | 'raw';

/**
 * A cell as every request carries it (protocol.Cell). The server takes a `CellType`; JupyterLab
 * types a cell's type as any string.
 */
export type Cell = { id: string; cell_type: string; source: string };

/** The cells of a notebook, in order, as the server wants them. */
export function notebookCells(panel: NotebookPanel): Cell[] {
  const cells: Cell[] = [];
  for (const cell of panel.content.model?.cells ?? []) {
    cells.push({ id: cell.id, cell_type: cell.type, source: cell.sharedModel.getSource() });
  }
  return cells;
}

/** A place in a cell; `offset` in characters (code points), as Python counts them. */
export type Cursor = { cell_id: string; offset: number };

/** One edit of one cell, oldest first in a next-edit request (protocol.EditEvent). */
export type EditEvent = { cell_id: string; before: string; after: string };

// -- the envelope ----------------------------------------------------------------------------------

/** What the client sends: `fields` of the request type, with the type and a fresh id. */
export type ClientMessage = { type: string; id: string; [field: string]: unknown };

export type ServiceStatus = {
  state: string;
  message?: string;
  [key: string]: unknown;
};

/** The server's state, pushed as the `status` event on connect and at every change. */
export type ServerStatus = {
  version: string;
  protocol: number;
  services: { [name: string]: ServiceStatus };
};

export type ErrorInfo = { code: string; message: string };

/** What the server sends: replies to a request (by its id), and events. */
export type ServerMessage =
  | { type: 'partial'; id: string; data: unknown }
  | { type: 'result'; id: string; result: unknown }
  | { type: 'error'; id: string | null; error: ErrorInfo }
  | { type: 'cancelled'; id: string }
  | { type: 'event'; event: 'status'; data: ServerStatus }
  | { type: 'event'; event: string; data: unknown };

// -- apply (jupyter_cursor/apply/protocol.py) ------------------------------------------------------

/** `path`: the notebook's, so that a block the answer gives for another file is refused. */
export type ApplyRequest = { cells: Cell[]; suggestion: string; path?: string };

/** One change of the apply engine's NotebookDiff. */
export type Operation =
  | { op: 'modify'; cell_id: string; source?: string; [key: string]: unknown }
  | {
      op: 'insert';
      position: number;
      id: string;
      cell_type: CellType;
      source: string;
      [key: string]: unknown;
    }
  | { op: 'delete'; cell_id: string; [key: string]: unknown };

export type DiffWarning = { code?: string; message: string; cell_id?: string };

/** The result of apply (and, with the answer, of refactor): the notebook it makes and how. */
export type NotebookDiff = { cells: Cell[]; ops: Operation[]; warnings: (DiffWarning | string)[] };

// -- chat (jupyter_cursor/chat/protocol.py) --------------------------------------------------------

/** The user's selection in a cell: the range [start, end) of its source, or the whole cell. */
export type ChatSelection = { cell_id: string; start?: number; end?: number; text?: string };

export type ChatRequest = {
  path: string;
  message: string;
  cells: Cell[];
  /** null starts a new session for `path`. */
  session_id?: string | null;
  selection?: ChatSelection | null;
  /** A configured provider's name; null: the default. */
  provider?: string | null;
  /** The kinds of context item the user removed (REMOVABLE in jupyter_cursor/chat/context.py). */
  exclude?: string[];
};

/** An item of the context sent with a question (or left out of it: `reason`, "removed" by the user). */
export type SentItem = { kind: string; label: string; chars?: number; reason?: string };

export type ChatPartial =
  | {
      type: 'context';
      session_id: string;
      message_id: number;
      provider: string;
      model?: string;
      sent: SentItem[];
      dropped: SentItem[];
      chars: number;
    }
  | { type: 'delta'; text: string };

export type ChatDone = { type: 'done'; session_id: string; message_id: number };

export type ChatSession = { id: string; path: string; title: string; [key: string]: unknown };

export type StoredMessage = {
  role: string;
  content: string;
  status?: string;
  [key: string]: unknown;
};

export type ProviderInfo = {
  name: string;
  label?: string;
  model?: string;
  available?: boolean;
  reason?: string;
  [key: string]: unknown;
};

/** `error`: why the configured providers could not be used (a configuration mistake). */
export type ChatProviders = { default: string | null; providers: ProviderInfo[]; error?: string };

// -- search (jupyter_cursor/index/protocol.py; the REST face answers the same) ----------------------

export type SearchMode = 'hybrid' | 'bm25' | 'embedding';

export type SearchRequest = { query: string; k?: number; mode?: SearchMode };

export type SearchHit = {
  path: string;
  cell_id: string | null;
  cell_index: number | null;
  start_line: number;
  end_line: number;
  kind: string;
  score: number;
  text: string;
  /** The words of `text` that match the query (BM25's terms); empty for a match by meaning. */
  matched: string[];
};

// -- next edit (jupyter_cursor/nextedit/protocol.py) -----------------------------------------------

export type NextEditRequest = {
  path: string;
  cells: Cell[];
  cursor: Cursor;
  events?: EditEvent[];
  /** The kernel's (a notebook) or the file's; '' when the client cannot tell. */
  language?: string;
  /** The cursor's cell just failed: the request asks for the fix of this error. */
  error?: ExecutionError;
};

/** A cell's execution that ended in an error, as the kernel reported it. */
export type ExecutionError = { ename: string; evalue: string; traceback: string[] };

/** A predicted cell: its whole new source. */
export type PredictedEdit = { cell_id: string; source: string };

/** A partial (`partial: true`, from the model while it writes) or the result. */
export type NextEditPrediction = {
  edits?: PredictedEdit[];
  predictor?: string;
  /** Once accepted, the cursor goes back to where the user typed (an import made for a line). */
  returns_cursor?: boolean;
  partial?: boolean;
  [key: string]: unknown;
};

/** How a shown suggestion ended, as the server's opt-in outcome log wants it. */
export type Outcome = 'accepted' | 'rejected' | 'ignored';

export type NextEditOutcomeRequest = {
  /** The id of the `nextedit` request whose suggestion was shown. */
  request_id: string;
  outcome: Outcome;
  /** The edit of one cell of the suggestion; absent: all of them. */
  cell_id?: string | null;
};

// -- refactor (jupyter_cursor/refactor/protocol.py) ------------------------------------------------

export type RefactorRequest = {
  path: string;
  cells: Cell[];
  instruction: string;
  /** Cell id -> its outputs, summarised as short text. */
  outputs?: { [cellId: string]: string } | null;
  provider?: string | null;
};

export type RefactorPartial = { type: 'delta'; text: string };

export type RefactorResult = NotebookDiff & { type: 'diff'; answer: string };

// -- the request types -----------------------------------------------------------------------------

type Empty = { [field: string]: never };

/** Each request type: the fields it sends, the partials it streams, the result it ends with. */
export type Requests = {
  ping: { fields: Empty; partial: never; result: unknown };
  status: { fields: Empty; partial: never; result: ServerStatus };
  apply: { fields: ApplyRequest; partial: never; result: NotebookDiff };
  chat: { fields: ChatRequest; partial: ChatPartial; result: ChatDone };
  chat_sessions: {
    fields: { path: string };
    partial: never;
    result: { path: string; sessions: ChatSession[] };
  };
  chat_history: {
    fields: { session_id: string };
    partial: never;
    result: { session: ChatSession; messages: StoredMessage[] };
  };
  chat_delete: { fields: { session_id: string }; partial: never; result: { deleted: boolean } };
  chat_providers: { fields: Empty; partial: never; result: ChatProviders };
  search: { fields: SearchRequest; partial: never; result: { hits: SearchHit[] } };
  nextedit: { fields: NextEditRequest; partial: NextEditPrediction; result: NextEditPrediction };
  nextedit_outcome: {
    fields: NextEditOutcomeRequest;
    partial: never;
    result: { logged: boolean };
  };
  refactor: { fields: RefactorRequest; partial: RefactorPartial; result: RefactorResult };
};

export type RequestType = keyof Requests;
export type RequestFields<K extends RequestType> = Requests[K]['fields'];
export type RequestPartial<K extends RequestType> = Requests[K]['partial'];
export type RequestResult<K extends RequestType> = Requests[K]['result'];
