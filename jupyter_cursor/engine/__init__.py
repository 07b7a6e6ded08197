"""The model runtime under next-edit prediction, apply and local chat.

A plain library: a local Hugging Face causal LM served by a worker thread (4-bit on CUDA), or a
remote OpenAI-compatible completions server, behind one ``Runtime`` interface.
"""

from .config import EngineConfig, EngineError, GenerationChunk, GenerationRequest, Priority
from .runtime import LocalRuntime, Runtime, create_runtime, text_stream

__all__ = [
    "EngineConfig",
    "EngineError",
    "GenerationChunk",
    "GenerationRequest",
    "LocalRuntime",
    "Priority",
    "Runtime",
    "create_runtime",
    "text_stream",
]
