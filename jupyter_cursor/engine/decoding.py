"""Token-by-token generation as a generator, so the scheduler can interleave and cancel requests.

Each ``next()`` runs one forward pass: the prefill, then one verification step (the next token plus
a prompt-lookup draft, accepted as far as the model agrees greedily). The KV cache of the last
finished request is kept, and a new prompt sharing its prefix skips that part of the prefill.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterator
from typing import Any

import torch

from .config import GenerationChunk, GenerationRequest
from .speculation import lookup_draft
from .stopping import OutputTracker


def _shared_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class Decoder:
    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        device: str,
        max_new_tokens: int,
        prefix_reuse_min_tokens: int,
    ):
        self.model = model
        self.tokenizer = tokenizer
        self.device = torch.device(device)
        self.max_new_tokens = max_new_tokens
        self.prefix_reuse_min_tokens = prefix_reuse_min_tokens
        eos = model.generation_config.eos_token_id
        if eos is None:
            eos = tokenizer.eos_token_id
        self.eos = set(eos if isinstance(eos, list) else [] if eos is None else [eos])
        self._prefix: tuple[list[int], Any] | None = None  # (token ids in the cache, the cache)
        # transformers 5.x names the KV cache argument `cache` and warns at every forward pass
        # when it is called `past_key_values`, as 4.x (and remote-code models) name it.
        forward = inspect.signature(model.forward).parameters
        self._cache_arg = "cache" if "cache" in forward else "past_key_values"

    def drop_cache(self) -> None:
        self._prefix = None

    def _cache_for(self, ids: list[int]) -> tuple[Any, int]:
        """A cache and how many of ``ids`` it already holds."""
        from transformers import DynamicCache

        prefix, self._prefix = self._prefix, None  # a cache serves one request at a time
        if prefix is not None:
            cached_ids, cache = prefix
            # At least one prompt token must go through the model to give the next token's logits.
            keep = min(_shared_prefix(cached_ids, ids), len(ids) - 1)
            if keep >= self.prefix_reuse_min_tokens:
                cache.crop(keep - cache.get_seq_length())
                # Caches that cannot be cut back (sliding windows, recurrent state) start afresh.
                if cache.get_seq_length() == keep:
                    return cache, keep
        return DynamicCache(config=self.model.config), 0

    def _forward(self, tokens: list[int], cache: Any) -> torch.Tensor:
        inputs = torch.tensor([tokens], device=self.device)
        return self.model(input_ids=inputs, use_cache=True, **{self._cache_arg: cache}).logits[0]

    def _hidden_special_ids(self, stop: list[str]) -> set[int]:
        """Special tokens left out of the text, except those a stop string names (a format may
        stop on one, as Sweep's on ``<|file_sep|>``): the tracker must see those to stop."""
        shown = {
            self.tokenizer.convert_tokens_to_ids(s)
            for s in stop
            if s in self.tokenizer.all_special_tokens or s in self.tokenizer.get_added_vocab()
        }
        return set(self.tokenizer.all_special_ids) - shown

    def _pick(self, logits: torch.Tensor, temperature: float) -> int:
        if temperature > 0:
            probs = torch.softmax(logits.float() / temperature, dim=-1)
            return int(torch.multinomial(probs, 1))
        return int(logits.argmax())

    @staticmethod
    def _probs_of(logits: torch.Tensor, tokens: list[int]) -> list[float]:
        """The probability each row of ``logits`` gave the token chosen there."""
        rows = torch.softmax(logits[: len(tokens)].float(), dim=-1)
        return rows[torch.arange(len(tokens)), torch.tensor(tokens)].tolist()

    def run(self, request: GenerationRequest) -> Iterator[GenerationChunk | None]:
        """Yields after every forward pass: a chunk when the visible text grew, else None.

        The last item is the final chunk (``done``), without queue_ms and total_ms, which the
        scheduler knows. Closing the generator cancels; the cache is kept for the next prompt.
        """
        with torch.inference_mode():
            yield from self._run(request)

    def _run(self, request: GenerationRequest) -> Iterator[GenerationChunk | None]:
        budget = request.max_new_tokens or self.max_new_tokens
        greedy = request.temperature <= 0
        tracker = OutputTracker(request.stop, request.original, request.rejoin_chars)
        ids = self.tokenizer(request.prompt)["input_ids"]
        hidden = self._hidden_special_ids(request.stop)
        started = time.perf_counter()
        cache, reused = self._cache_for(ids)
        cached_ids = list(ids[:reused])
        stats = {
            "prefill_ms": 0.0,
            "decode_ms": 0.0,
            "ttft_ms": None,
            "tokens": 0,
            "draft_proposed": 0,
            "draft_accepted": 0,
            "reused_prefix_tokens": reused,
        }
        generated: list[int] = []
        least = 1.0  # the lowest probability of a chosen token (greedy only)
        emitted = ""  # the text the caller has been given
        visible = ""
        reason = None
        try:
            logits = self._forward(ids[reused:], cache)
            cached_ids = list(ids)
            stats["prefill_ms"] = (time.perf_counter() - started) * 1000
            pending = [self._pick(logits[-1], request.temperature)]  # decided, not yet in the cache
            probs = self._probs_of(logits[-1:], pending) if greedy else []
            while True:
                # Tokens after an end-of-sequence token are not output.
                for i, token in enumerate(pending):
                    if token in self.eos:
                        pending, probs, reason = pending[:i], probs[: i + 1], "eos"
                        break
                kept = budget - len(generated)
                least = min([least, *probs[:kept]])
                generated.extend(pending[:kept])
                raw = self.tokenizer.decode(
                    [t for t in generated if t not in hidden], clean_up_tokenization_spaces=False
                )
                text, stopped = tracker.update(raw)
                reason = stopped or reason
                if reason is None and len(generated) >= budget:
                    reason = "length"
                if reason is not None:
                    visible = text if stopped else tracker.final(raw)
                    break
                if text != emitted and text.startswith(emitted):
                    if stats["ttft_ms"] is None:
                        stats["ttft_ms"] = (time.perf_counter() - started) * 1000
                    chunk = GenerationChunk(
                        text=text,
                        delta=text[len(emitted) :],
                        min_token_prob=least if greedy else None,
                    )
                    emitted = text
                    yield chunk
                else:
                    yield None
                step_started = time.perf_counter()
                last = generated[-1]
                draft = []
                if request.prompt_lookup and greedy:
                    room = budget - len(generated) - 1
                    history = torch.tensor(cached_ids + [last])
                    draft = lookup_draft(history, min(request.prompt_lookup_tokens, room))
                logits = self._forward([last] + draft, cache)
                cached_ids.append(last)
                if draft:
                    predicted = logits[: len(draft)].argmax(dim=-1).tolist()
                    accepted = 0
                    while accepted < len(draft) and predicted[accepted] == draft[accepted]:
                        accepted += 1
                    stats["draft_proposed"] += len(draft)
                    stats["draft_accepted"] += accepted
                    if accepted < len(draft):
                        cache.crop(accepted - len(draft))  # forget the rejected draft tokens
                    cached_ids.extend(draft[:accepted])
                    pending = draft[:accepted] + [self._pick(logits[accepted], request.temperature)]
                    probs = self._probs_of(logits[: accepted + 1], pending)
                else:
                    pending = [self._pick(logits[-1], request.temperature)]
                    probs = self._probs_of(logits[-1:], pending) if greedy else []
                stats["decode_ms"] += (time.perf_counter() - step_started) * 1000
        finally:
            stats["tokens"] = len(generated)
            # Also after a cancel: the next request (often the same document) reuses the prefix.
            if cache.get_seq_length() == len(cached_ids):
                self._prefix = (cached_ids, cache)
        if stats["ttft_ms"] is None:
            stats["ttft_ms"] = (time.perf_counter() - started) * 1000
        delta = visible[len(emitted) :] if visible.startswith(emitted) else visible
        yield GenerationChunk(
            text=visible,
            delta=delta,
            done=True,
            finish_reason=reason,
            timings=stats,
            min_token_prob=least if greedy else None,
        )
