"""The model runtime under next-edit prediction, apply and local chat.

A plain library: a local Hugging Face causal LM served by a worker thread (4-bit on CUDA), or a
remote OpenAI-compatible completions server, behind one ``Runtime`` interface.

- ``base``: the ``Runtime`` face (start, status, generate, close), its states, ``text_stream``
- ``local``: ``LocalRuntime``, a model in this process; ``scheduler`` runs its one worker thread,
  ``loading`` picks device and precision and loads, ``decoding`` and ``speculation`` generate
- ``remote``: ``RemoteRuntime``, an OpenAI-compatible completions server (vLLM, TGI, llama.cpp)
- ``config``: the configuration, requests, chunks and errors; ``jobs``: one request in flight;
  ``stopping``: stop strings and the early stop when the output rejoins the original
- ``testing``: tiny random models for tests
"""

from .base import Runtime, RuntimeState, StatusCallback, text_stream
from .config import EngineConfig, EngineError, GenerationChunk, GenerationRequest, Priority
from .local import LocalRuntime
from .remote import RemoteRuntime


def create_runtime(config: EngineConfig, on_status: StatusCallback | None = None) -> Runtime:
    """The runtime ``config.backend`` names, not started."""
    if config.backend == "remote":
        return RemoteRuntime(config, on_status)
    return LocalRuntime(config, on_status)


__all__ = [
    "EngineConfig",
    "EngineError",
    "GenerationChunk",
    "GenerationRequest",
    "LocalRuntime",
    "Priority",
    "RemoteRuntime",
    "Runtime",
    "RuntimeState",
    "create_runtime",
    "text_stream",
]
