"""The server extension: configuration, handlers, and the lifetime of the services."""

from __future__ import annotations

import asyncio

from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import IOLoop, PeriodicCallback
from traitlets import Bool, Dict, Enum, Float, Int, Unicode

from . import services as svc
from ._version import __version__
from .completion.source import ENDPOINTS as COMPLETION_ENDPOINTS
from .completion.source import SOURCES as COMPLETION_SOURCES
from .engine import RuntimeState
from .handlers import handler_routes
from .handlers.base import EXTENSION_NAME
from .handlers.ws import WS_MESSAGE_CEILING
from .nextedit.formats import FORMATS
from .redaction import install_log_filter
from .services import Services
from .traits import JsonList

# What of the index's status the browser sees (its skip list can be long; paths stay server-side).
INDEX_STATUS_KEYS = (
    "files",
    "chunks",
    "embedded_chunks",
    "embeddings",
    "progress",
    "modes",
    "corrupt",
    "skipped_count",
    "note",
    "error",
)


# The runtime's states as the "model" service's. STOPPED is a configured runtime that has not
# started yet (it starts on the loop's first turn): starting, not "no model configured".
MODEL_STATES = {
    RuntimeState.NOT_CONFIGURED: svc.NOT_CONFIGURED,
    RuntimeState.STOPPED: svc.STARTING,
    RuntimeState.LOADING: svc.STARTING,
    RuntimeState.READY: svc.READY,
    RuntimeState.ERROR: svc.ERROR,
}


def model_service_state(status: dict) -> str:
    return MODEL_STATES.get(status.get("state"), svc.NOT_CONFIGURED)


def describe_model(status: dict) -> str:
    """One line for the status bar's tooltip: which model, where, how big, how fast it loaded."""
    if status.get("last_error"):
        return str(status["last_error"])
    name = str(status.get("model") or "")
    if name.rstrip("/").endswith("models/default"):
        name = "built-in next-edit model"
    parts = [name] if name else []
    if status.get("device"):
        precision = (
            status.get("quantization") if status.get("quantization") not in (None, "none") else None
        )
        parts.append(f"{status['device']} {precision or status.get('dtype', '')}".strip())
    if status.get("memory_bytes"):
        parts.append(f"{status['memory_bytes'] / 2**20:.0f} MB")
    if status.get("load_time_s"):
        parts.append(f"loaded in {status['load_time_s']:.1f} s")
    return ", ".join(parts)


class CursorApp(ExtensionApp):
    name = EXTENSION_NAME
    version = __version__
    description = "Next-edit predictions, workspace search and exact apply for JupyterLab."
    load_other_extensions = True

    max_message_bytes = Int(
        8 * 1024 * 1024,
        config=True,
        help="Largest websocket message accepted, in bytes; larger ones get a 'too_large' error.",
    )
    index_enabled = Bool(True, config=True, help="Index the server's root for search and context.")
    index_embeddings = Bool(
        True,
        config=True,
        help="Compute MiniLM embeddings in the background (hybrid search); False: BM25 only.",
    )
    index_embedding_model = Enum(
        ["code", "stock"],
        None,
        allow_none=True,
        config=True,
        help="Embedding model of the index: 'code' (all-MiniLM-L6-v2 fine-tuned for code search, "
        "shipped) or 'stock' (all-MiniLM-L6-v2). Unset: the better one on the index benchmark "
        "(jupyter_cursor.index.embedder.DEFAULT_EMBEDDING_MODEL). Changing it re-embeds the "
        "workspace once.",
    )
    index_embedding_bf16 = Bool(
        None,
        allow_none=True,
        config=True,
        help="Compute the embeddings in bfloat16 (about 1.8 times as fast, vectors within a "
        "cosine of 1e-4 of fp32). Unset: where the CPU multiplies bf16 natively (AVX512-BF16 or "
        "AMX); False: always fp32 (emulated bf16 is slower).",
    )
    index_dir = Unicode(
        "",
        config=True,
        help="Folder of the workspace indexes (default: <jupyter data dir>/jupyter_cursor/index).",
    )
    index_max_file_bytes = Int(
        1_000_000, config=True, help="Files larger than this are not indexed (notebooks: 50 MB)."
    )
    index_rescan_seconds = Float(
        120.0,
        config=True,
        help="Look for files changed behind the server's back (git pull, a kernel writing files) this "
        "often; saves through Jupyter are indexed at once regardless. 0: never.",
    )

    providers = JsonList(
        Dict(),
        [],
        config=True,
        help="Foundation-model providers for chat and refactor, e.g. "
        "[{'name': 'gpt', 'kind': 'openai', 'model': 'gpt-4o-mini', 'api_key_env': 'OPENAI_API_KEY'}]."
        " Kinds: openai (any OpenAI-compatible base_url), azure, anthropic, local. Keys come from "
        "api_key_env or api_key_file (read at each request) or api_key; they never reach the browser.",
    )
    chat_db_path = Unicode(
        "",
        config=True,
        help="SQLite file of chat history (default: <jupyter data dir>/jupyter_cursor/chat.sqlite3).",
    )
    chat_history_messages = Int(20, config=True, help="Earlier messages sent with each question.")
    apply_model_fallback = Bool(
        False,
        config=True,
        help="When the deterministic apply merge refuses a snippet for a cell it found, let the model "
        "runtime (engine_*) rewrite that one cell from it. Off: no model has been shown to do this "
        "well enough; each such cell is flagged for review.",
    )

    engine_backend = Enum(
        ["local", "remote"],
        "local",
        config=True,
        help="Where the next-edit model runs: 'local' (a Hugging Face model in this server) or "
        "'remote' (an OpenAI-compatible completions server: vLLM, TGI, llama.cpp).",
    )
    engine_model = Unicode(
        None,
        allow_none=True,
        config=True,
        help="Local model: a directory or a Hugging Face hub id; '' turns the local model off. "
        "Default: none until the model shipped in the package (jupyter_cursor/models/default) beats "
        "the rules alone on the next-edit evaluation (see its model card); point this at that folder "
        "to try it.",
    )
    engine_device = Enum(
        ["auto", "cuda", "cpu"], "auto", config=True, help="Device of the local model."
    )
    engine_quantization = Enum(
        ["auto", "4bit", "none"],
        "auto",
        config=True,
        help="'auto': bitsandbytes NF4 on CUDA; on the CPU the faster of NF4 and bf16/fp32.",
    )
    engine_dtype = Enum(
        ["auto", "float32", "bfloat16", "float16"], "auto", config=True, help="Compute dtype."
    )
    engine_max_new_tokens = Int(256, config=True, help="Most tokens generated per request.")
    engine_cpu_threads = Int(
        0, config=True, help="PyTorch CPU threads (0: PyTorch's default of one per core)."
    )
    engine_remote_url = Unicode(
        "",
        config=True,
        help="Base URL of the OpenAI-compatible server (…/v1) for engine_backend='remote'.",
    )
    engine_remote_model = Unicode("", config=True, help="Model name on the remote server.")
    engine_remote_api_key = Unicode(
        "",
        config=True,
        help="Bearer token of the remote server; never sent to the browser or logged.",
    )

    nextedit_format = Enum(
        list(FORMATS),
        "jupyter-cursor",
        config=True,
        help="Prompt format of the next-edit model, matching the model (README: which format for "
        "which published model): 'jupyter-cursor' (our own), 'zeta' (Zed's Zeta 1), 'zeta2' and "
        "'zeta2.1' (Zed's Zeta 2 / 2.1), 'instinct' (Continue's Instinct), 'sweep' (Sweep's "
        "next-edit models as trained) or 'sweep-autocomplete' (as Sweep's own local server sends).",
    )
    nextedit_min_confidence = Float(
        None,
        allow_none=True,
        config=True,
        help="The least probability a next-edit model may give any token of an answer that is shown "
        "(0 to 1; 0 shows every well-formed answer). Default: the value measured for our own model. "
        "Remote backends do not report probabilities, so their answers are not gated by it.",
    )
    nextedit_log = Bool(
        False,
        config=True,
        help="Log each next-edit suggestion shown, with its request (the notebook's cells) and "
        "whether it was accepted, rejected or ignored, to a local file (nextedit_log_path), for "
        "'jupyter cursor export-edits'. Nothing leaves this machine.",
    )
    nextedit_log_path = Unicode(
        "",
        config=True,
        help="File of the next-edit log (default: <jupyter data dir>/jupyter_cursor/nextedit_log.jsonl).",
    )
    completion_source = Enum(
        list(COMPLETION_SOURCES),
        "default",
        config=True,
        help="What completes at the cursor as you type (ghost text, Tab accepts): 'default' (the "
        "embedded completer: the continuation of an earlier line that starts the same way, no "
        "model), 'fim' (engine_model, local or served, as a fill-in-the-middle code model: it then "
        "completes instead of predicting next edits), 'chat' (a chat provider, "
        "completion_chat_provider, asked for the text at the cursor: each pause in typing sends "
        "the notebook around the cursor, up to about 1,100 tokens, to it) or 'off'.",
    )
    completion_fim_format = Unicode(
        "",
        config=True,
        help="The FIM prompt family of a served model whose name does not tell it: qwen2.5-coder, "
        "seed-coder, deepseek-coder, starcoder, codestral or codellama (a local model's tokenizer "
        "tells it). Not used with a native completion_endpoint: the server applies its own.",
    )
    completion_endpoint = Enum(
        list(COMPLETION_ENDPOINTS),
        "completions",
        config=True,
        help="How a served FIM model (completion_source 'fim', engine_backend 'remote') is asked: "
        "'completions' (the OpenAI completions API, …/v1/completions, with the FIM prompt rendered "
        "here: vLLM, TGI, llama.cpp, Ollama), 'llama-infill' (llama.cpp server's POST /infill) or "
        "'ollama' (Ollama's POST /api/generate with a suffix): these two get the prefix and the "
        "suffix apart and apply the model's own FIM tokens, so no completion_fim_format is needed. "
        "engine_remote_url may end in /v1 or not.",
    )
    completion_chat_provider = Unicode(
        "",
        config=True,
        help="The provider (a name in providers) that completes when completion_source is 'chat'; "
        "'': the chat's default provider (the one marked default, else the first).",
    )

    kernel_context = Bool(
        True,
        config=True,
        help="Read what a notebook's live Python kernel knows (its variables' names, types and "
        "shapes, DataFrame columns) for completions, next edits, chat and refactor, and fix a "
        "failed cell: a silent, time-boxed request of ours, only while the kernel is idle; it "
        "never runs the user's code. False: the kernel is never asked.",
    )

    services: Services
    kernel = None
    index = None
    chat = None
    runtime = None
    apply_fallback = None
    _rescan = None

    def initialize_settings(self) -> None:
        install_log_filter(self.log, self.serverapp.log)  # no key or URL password in the log
        # Tornado drops a websocket whose message is over the ceiling; ours must stay below it so
        # that an oversized message gets an error reply on a connection that stays open.
        if not 0 < self.max_message_bytes < WS_MESSAGE_CEILING:
            raise ValueError(
                f"CursorApp.max_message_bytes must be between 1 and {WS_MESSAGE_CEILING - 1}"
            )
        # The handlers reach this app (and its services) as jupyter_server stores it: under its
        # name in the web app's settings (handlers/base.py).
        self.services = Services()

    def initialize_handlers(self) -> None:
        self.handlers.extend(handler_routes())
        # The engines run in their own threads and need no running loop to start; starting them
        # here (not in the post-start hook) also serves servers embedded without start(), as in
        # tests.
        if self.index_enabled:
            self._start_index(self.serverapp)
        from .kernel.service import KernelContext

        self.kernel = KernelContext(
            self.serverapp.session_manager, self.serverapp.kernel_manager, self.kernel_context
        )
        self._start_engine()
        self._start_apply()
        self._start_chat(self.serverapp)  # before next edit: the chat completion source uses it
        self._start_nextedit()

    async def stop_extension(self) -> None:
        from . import workers

        workers.shutdown()
        if self.kernel is not None:
            await self.kernel.close()
        if self.runtime is not None:
            self.runtime.close()
        if self.chat is not None:
            await self.chat.providers.aclose()
            self.chat.store.close()
            self.chat = None
        if self._rescan is not None:
            self._rescan.stop()
        if self.index is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.index.close)
            self.index = None

    # -- workspace index --------------------------------------------------------------------------

    def _start_index(self, serverapp) -> None:
        from .index import IndexLocked, WorkspaceIndex
        from .index.jupyter_hooks import connect
        from .index.protocol import search_methods

        io_loop = IOLoop.current()

        def on_change(status: dict) -> None:  # called from the index's worker threads
            io_loop.add_callback(self._publish_index_status, status)

        from .index.embedder import make_embedder

        index = WorkspaceIndex(
            serverapp.root_dir,
            self.index_dir or None,
            embeddings=self.index_embeddings,
            embedder=(
                make_embedder(self.index_embedding_model, bf16=self.index_embedding_bf16)
                if self.index_embeddings
                else None
            ),
            max_file_bytes=self.index_max_file_bytes,
            on_change=on_change,
        )
        try:
            index.start()
        except IndexLocked as err:
            self.services.set_state("index", svc.ERROR, str(err))
            self.log.warning("jupyter_cursor: workspace index not started: %s", err)
            return
        connect(serverapp.contents_manager, serverapp.event_logger, index)
        self.index = index
        if self.index_rescan_seconds > 0:
            # A stat per file: cheap, and only changed files are read again.
            self._rescan = PeriodicCallback(index.rescan, self.index_rescan_seconds * 1000)
            self._rescan.start()
        self.services.register_methods(search_methods(index))
        self._publish_index_status(index.status())

    def _publish_index_status(self, status: dict) -> None:
        state = {"indexing": svc.INDEXING, "ready": svc.READY}.get(status["state"], svc.ERROR)
        message = status.get("error") or ""
        if state == svc.INDEXING:
            message = (
                f"{status['files']} files, {status['embedded_chunks']}/{status['chunks']} embedded"
            )
        detail = {key: status.get(key) for key in INDEX_STATUS_KEYS}
        self.services.set_state("index", state, message, **detail)

    # -- apply ---------------------------------------------------------------------------------------

    def _start_apply(self) -> None:
        from .apply.fallback import ModelFallback
        from .apply.protocol import apply_methods

        # The websocket method and the REST handler both use it.
        self.apply_fallback = fallback = (
            ModelFallback(self.runtime) if self.apply_model_fallback else None
        )
        self.services.register_methods(apply_methods(fallback))
        how = "deterministic merge" + (", model fallback" if fallback else "")
        self.services.set_state("apply", svc.READY, how)

    # -- model runtime ------------------------------------------------------------------------------

    def engine_config(self):
        from .engine import EngineConfig
        from .models import default_model_path

        model = self.engine_model
        if model is None:
            default = default_model_path()
            model = str(default) if default is not None else ""
        return EngineConfig(
            backend=self.engine_backend,
            model=model,
            device=self.engine_device,
            quantization=self.engine_quantization,
            dtype=self.engine_dtype,
            max_new_tokens=self.engine_max_new_tokens,
            cpu_threads=self.engine_cpu_threads,
            remote_url=self.engine_remote_url,
            remote_model=self.engine_remote_model,
            remote_api_key=self.engine_remote_api_key,
        )

    def _start_engine(self) -> None:
        from .engine import create_runtime

        self.runtime = create_runtime(self.engine_config(), on_status=self._model_status)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            # `jupyter lab` sets handlers up before its loop runs; the runtime needs the loop (to
            # probe a remote server, and to report status on the loop's thread), so it starts
            # on the loop's first turn.
            IOLoop.current().add_callback(self.runtime.start)
        else:
            self.runtime.start()
        self._model_status(self.runtime.status())

    def _model_status(self, status: dict) -> None:
        """The runtime's status as the "model" service (what the status bar shows)."""
        state = model_service_state(status)
        detail = {key: value for key, value in status.items() if key != "state"}
        self.services.set_state("model", state, describe_model(status), **detail)
        self._completion_status()

    # -- next edit -----------------------------------------------------------------------------------

    def _start_nextedit(self) -> None:
        from .completion.source import Completer
        from .nextedit import protocol as nextedit_protocol
        from .nextedit.feedback import SuggestionLog, default_log_path
        from .nextedit.formats import get_format
        from .nextedit.model import ModelPredictor
        from .nextedit.service import NextEditService

        def retrieve(query: str, k: int) -> list[dict]:
            # BM25 alone: embedding the query costs more than a keystroke's budget allows.
            return self.index.search(query, k, "bm25") if self.index is not None else []

        # Without a configured model, the deterministic predictors answer alone.
        model = ModelPredictor(
            self.runtime,
            get_format(self.nextedit_format),
            retrieve=retrieve,
            min_confidence=self.nextedit_min_confidence,
        )
        log = (
            SuggestionLog(self.nextedit_log_path or default_log_path())
            if self.nextedit_log
            else None
        )
        try:
            self.completer = Completer(
                self.completion_source,
                self.runtime,
                self.completion_fim_format,
                endpoint=self.completion_endpoint,
                providers=self.chat.providers if self.chat is not None else None,
                chat_provider=self.completion_chat_provider,
            )
        except ValueError as err:  # an option we cannot use: said in the status, not a crash
            self.completer = None
            self.services.set_state("completion", svc.ERROR, str(err))
        self._completion_status()
        service = NextEditService(model, log, self.completer, kernel=self.kernel)
        self.services.register_methods(nextedit_protocol.nextedit_methods(service))

    def _completion_status(self) -> None:
        """Which source completes (it follows the model's state when the model completes)."""
        if getattr(self, "completer", None) is not None:
            self.services.set_state("completion", *self.completer.describe())

    # -- chat -----------------------------------------------------------------------------------------

    def _start_chat(self, serverapp) -> None:
        from .chat import ChatService, ChatStore, ContextBuilder
        from .chat.protocol import chat_methods
        from .providers import ProviderRegistry

        try:
            from .engine import text_stream

            local = text_stream(self.runtime) if self.runtime is not None else None
            registry = ProviderRegistry.from_config(self.providers, local_generate=local)
            registry.preload()  # the SDKs' imports, now rather than on the loop at the first chat
        except ValueError as err:
            # A typo in the configuration must say where it is, not take the server down: in the
            # log, the status item and the chat panel.
            message = f"invalid providers configuration: {err}"
            self.log.error("jupyter_cursor: c.CursorApp.providers is invalid: %s", err)
            self.services.set_state("chat", svc.ERROR, message)
            registry = ProviderRegistry([], config_error=message)

        def retrieve(query: str, k: int) -> list[dict]:
            return self.index.search(query, k) if self.index is not None else []

        context = ContextBuilder(serverapp.root_dir, retrieve=retrieve)
        self.chat = ChatService(
            ChatStore(self.chat_db_path or None),
            registry,
            context,
            history_messages=self.chat_history_messages,
            kernel=self.kernel,
        )
        self.services.register_methods(chat_methods(self.chat))
        from .refactor import RefactorService
        from .refactor.protocol import refactor_methods

        self.services.register_methods(
            refactor_methods(RefactorService(registry, retrieve, kernel=self.kernel))
        )
        if self.services.state("chat").state != svc.ERROR:
            names = ", ".join(p["name"] for p in registry.public_info()["providers"])
            state = svc.READY if len(registry) else svc.NOT_CONFIGURED
            self.services.set_state("chat", state, names or "no provider configured")


main = launch_new_instance = CursorApp.launch_instance
