/**
 * How each shown suggestion ended (accepted, rejected, ignored), told to the server with a
 * `nextedit_outcome` request, once per next-edit request. The server logs it only when the user
 * opted in; a server that does not know the message answers with an error, which is ignored.
 */
import { CursorConnection } from '../connection';
import { Outcome } from '../protocol';

/** The request ids already reported that are remembered, to report each once. */
const REPORTED_KEPT = 1000;
/** The outcomes kept for `outcomes`. */
const OUTCOMES_KEPT = 100;

export class OutcomeReporter {
  constructor(private readonly connection: CursorConnection) {}

  /** The outcomes reported so far (newest last), for tests. */
  readonly outcomes: { request_id: string; outcome: Outcome }[] = [];

  /** Report how the suggestion of request `requestId` ended, unless it has been already. */
  report(requestId: string, outcome: Outcome): void {
    if (this._reported.has(requestId)) {
      return;
    }
    this._reported.add(requestId);
    if (this._reported.size > REPORTED_KEPT) {
      this._reported.delete(this._reported.values().next().value!);
    }
    this.outcomes.push({ request_id: requestId, outcome });
    if (this.outcomes.length > OUTCOMES_KEPT) {
      this.outcomes.shift();
    }
    this.connection
      .request('nextedit_outcome', { request_id: requestId, outcome })
      .result.catch(() => undefined);
  }

  private _reported = new Set<string>();
}
