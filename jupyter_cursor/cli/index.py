"""``jupyter cursor index ROOT`` and ``jupyter cursor search QUERY --root ROOT``: the workspace
index without a server. Both use the same index folder as a server on that root (so a server and
the CLI cannot write one index at once: the second gets a clear error)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ._common import BadLine, UsageError, jsonl_output, print_json, read_jsonl, write_jsonl_line

MODES = ("hybrid", "bm25", "embedding")


def register(subparsers) -> None:
    index = subparsers.add_parser(
        "index",
        help="index a folder for workspace search (incremental: only changes are redone)",
        description="Build or refresh the search index of ROOT, with a progress bar.",
    )
    index.add_argument("root", help="the folder to index (the Jupyter server's root)")
    _common_options(index)
    index.add_argument("--json", action="store_true", help="print the final status as JSON")
    index.set_defaults(func=run_index)

    search = subparsers.add_parser(
        "search",
        help="search a folder's index",
        description="Search ROOT (indexing what changed first). One QUERY, or --batch IN.jsonl "
        'with lines {"id", "query", "mode"?, "k"?} and --out OUT.jsonl for many.',
    )
    search.add_argument("query", nargs="?", help="the query (or use --batch)")
    search.add_argument("--root", default=".", help="the indexed folder (default: .)")
    search.add_argument("--k", type=int, default=10, help="number of hits (1-100, default 10)")
    search.add_argument("--mode", choices=MODES, default="hybrid")
    search.add_argument("--json", action="store_true", help="print hits as JSON")
    search.add_argument("--batch", metavar="IN.jsonl", help="queries, one JSON object a line")
    search.add_argument("--out", metavar="OUT.jsonl", help="results of --batch (default: stdout)")
    search.add_argument(
        "--no-wait",
        action="store_true",
        help="search what is indexed now instead of waiting for changes and embeddings",
    )
    _common_options(search)
    search.set_defaults(func=run_search)


def _common_options(parser) -> None:
    parser.add_argument("--data-dir", help="folder of the indexes (default: Jupyter's data dir)")
    parser.add_argument("--no-embeddings", action="store_true", help="BM25 only")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _open(root: str, args, embeddings: bool):
    from jupyter_cursor.index import IndexLocked, WorkspaceIndex

    if not Path(root).is_dir():
        raise UsageError(f"{root} is not a folder")
    index = WorkspaceIndex(root, args.data_dir, embeddings=embeddings)
    try:
        index.start()
    except IndexLocked as err:
        raise UsageError(
            f"{err} (a running Jupyter server? use its search, or --data-dir)"
        ) from None
    return index


def _wait(index, embeddings: bool, quiet: bool) -> dict:
    """Wait for the index to settle, drawing a progress bar on stderr."""
    bar = None
    if not quiet:
        from tqdm import tqdm

        bar = tqdm(
            total=100,
            unit="%",
            file=sys.stderr,
            bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}",
        )
    try:
        while not index.wait_idle(timeout=0.2, embeddings=embeddings):
            if bar is not None:
                _draw(bar, index.status())
        status = index.status()
        if bar is not None:
            _draw(bar, status)
        return status
    finally:
        if bar is not None:
            bar.close()


def _draw(bar, status: dict) -> None:
    scan = status["scan"]
    if not scan["complete"]:
        bar.set_description_str(f"scanning {scan['done']}/{scan['total']} files")
    elif (
        status["embeddings"] in ("loading", "running", "waiting")
        and status["embedded_chunks"] < status["chunks"]
    ):
        bar.set_description_str(f"embedding {status['embedded_chunks']}/{status['chunks']} chunks")
    else:
        bar.set_description_str(f"{status['files']} files, {status['chunks']} chunks")
    bar.n = round(100 * status["progress"], 1)
    bar.refresh()


def run_index(args) -> int:
    embeddings = not args.no_embeddings
    index = _open(args.root, args, embeddings)
    try:
        status = _wait(index, embeddings, args.quiet)
    finally:
        index.close()
    if args.json:
        print_json(status)
    else:
        print(
            f"{status['files']} files, {status['chunks']} chunks, {status['embedded_chunks']} embedded; index in {status['index_dir']}"
        )
        for item in status["corrupt"]:
            print(f"  corrupt: {item['path']}: {item['reason']}")
        if status["error"]:
            print(f"  error: {status['error']}")
    return 1 if status["state"] == "error" else 0


def _check_request(query, k, mode, where: str) -> None:
    """The websocket's and REST's checks (protocol limits), and the index's own (k, mode)."""
    from .. import protocol
    from ..index.protocol import SearchBody

    try:
        protocol.from_dict(SearchBody, {"query": query, "k": k, "mode": mode}, "search")
    except ValueError as err:
        raise UsageError(f"{where}: {err}") from None
    if not query.strip():
        raise UsageError(f"{where}: query must be a non-empty string")
    if not 1 <= k <= 100:
        raise UsageError(f"{where}: k must be an integer from 1 to 100")


def run_search(args) -> int:
    if (args.query is None) == (args.batch is None):
        raise UsageError("give either a QUERY or --batch IN.jsonl")
    if args.out and not args.batch:
        raise UsageError("--out goes with --batch")
    if args.batch:
        requests = []
        for number, obj in read_jsonl(args.batch):
            if isinstance(obj, BadLine):  # every query is checked before the index opens
                raise UsageError(f"{args.batch}: {obj}")
            query, k, mode = obj.get("query"), obj.get("k", args.k), obj.get("mode", args.mode)
            _check_request(query, k, mode, f"{args.batch}:{number}")
            requests.append((obj.get("id", number), query, k, mode))
    else:
        _check_request(args.query, args.k, args.mode, "search")
        requests = [(None, args.query, args.k, args.mode)]
    needs_vectors = any(mode != "bm25" for *_, mode in requests) and not args.no_embeddings
    index = _open(args.root, args, needs_vectors)
    try:
        if not args.no_wait:
            _wait(index, needs_vectors, args.quiet)
        else:
            index.wait_idle(timeout=600, embeddings=False)
        if args.batch:
            with jsonl_output(args.out) as out:
                for request_id, query, k, mode in requests:
                    started = time.perf_counter()
                    hits = index.search(query, k, mode)
                    write_jsonl_line(
                        out,
                        {
                            "id": request_id,
                            "query": query,
                            "mode": mode,
                            "hits": hits,
                            "ms": round((time.perf_counter() - started) * 1000, 2),
                        },
                    )
            return 0
        _, query, k, mode = requests[0]
        hits = index.search(query, k, mode)
    finally:
        index.close()
    if args.json:
        print_json(hits)
    else:
        for hit in hits:
            where = f"cell {hit['cell_index']}" if hit["cell_index"] is not None else "lines"
            first = next((line for line in hit["text"].splitlines() if line.strip()), "")
            print(
                f"{hit['score']:.4f}  {hit['path']}  {where} {hit['start_line']}-{hit['end_line']}  ({hit['kind']})"
            )
            print(f"        {first[:100]}")
        if not hits:
            print("no hits")
    return 0
