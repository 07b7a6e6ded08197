"""What the runtime is asked to do: its configuration, requests, the chunks it streams, its errors."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal

from ..redaction import redact


class Priority(enum.IntEnum):
    """Lower runs first: a keystroke's prediction must not wait behind a chat answer."""

    NEXT_EDIT = 0
    APPLY = 1
    CHAT = 2


@dataclass
class EngineConfig:
    """How to reach a model. An empty ``model`` with the local backend means "not configured"."""

    backend: Literal["local", "remote"] = "local"
    # A local directory or a Hugging Face hub id (resolved through the usual HF cache).
    model: str = ""
    device: Literal["auto", "cuda", "cpu"] = "auto"
    # "auto": bitsandbytes NF4 on CUDA; on the CPU the default measured fastest in
    # benchmarks/RESULTS.md (see loading.cpu_default).
    quantization: Literal["auto", "4bit", "none"] = "auto"
    # "auto": bfloat16 on CUDA (the 4-bit compute dtype too), loading.cpu_default on the CPU.
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    max_new_tokens: int = 256
    # CPU threads for PyTorch (process-wide); 0 keeps PyTorch's default (one per core). On a
    # machine whose cores are busy with other work, fewer threads are much faster: OpenMP's
    # threads wait for each other at every operation (benchmarks/RESULTS.md).
    cpu_threads: int = 0
    trust_remote_code: bool = False
    # Prefix KV reuse only pays once the shared prefix saves more than cropping costs.
    prefix_reuse_min_tokens: int = 32
    remote_url: str = ""
    remote_model: str = ""
    remote_api_key: str = field(default="", repr=False)  # never in reprs, logs or status
    remote_timeout_s: float = 60.0


@dataclass
class GenerationRequest:
    prompt: str
    max_new_tokens: int | None = None  # None: the config's max_new_tokens
    stop: list[str] = field(default_factory=list)
    # The text the output reproduces apart from the edit (e.g. the editable region as the prompt
    # holds it, closing marker included). Once the output has changed it and copies
    # ``rejoin_chars`` of it again, generation stops and the rest of ``original`` is appended.
    original: str | None = None
    rejoin_chars: int = 32
    priority: Priority = Priority.CHAT
    # A newer request with the same key replaces the older one, queued or running.
    key: str | None = None
    prompt_lookup: bool = True
    prompt_lookup_tokens: int = 10
    temperature: float = 0.0  # 0: greedy (prompt lookup needs greedy decoding)


FinishReason = Literal["eos", "length", "stop", "rejoined", "cancelled", "replaced"]


@dataclass
class GenerationChunk:
    text: str  # everything so far; the final chunk's text is authoritative
    delta: str  # what this chunk added to ``text``
    done: bool = False
    finish_reason: FinishReason | None = None
    # On the final chunk: queue_ms, prefill_ms, decode_ms, ttft_ms, total_ms, tokens,
    # draft_proposed, draft_accepted, reused_prefix_tokens.
    timings: dict | None = None
    # Greedy local generation: the lowest probability the model gave any token it chose so far
    # (the end included), the confidence of its least sure step. None where the backend does not
    # tell (remote) or when sampling.
    min_token_prob: float | None = None


class EngineError(Exception):
    """A request the runtime could not serve; ``code`` is stable, the message is for people (and
    shown to them: it is scrubbed of secrets, as a model server may quote the key back)."""

    def __init__(self, code: str, message: str):
        super().__init__(redact(message))
        self.code = code
