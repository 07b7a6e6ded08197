"""A byte-level BPE trained on the corpus, with the next-edit format's markers as special tokens.

Byte-level, so any text encodes and nothing is unknown. The markers are added tokens with fixed ids
(2-9): never split, never merged with the text around them, so the model sees each as one token in
prompts and completions. Only eos and pad are *special* in the transformers sense: the engine decodes
with ``skip_special_tokens=True``, which would drop a special ``<|cell|>`` from the model's answer
(and with it the cross-cell edits of the format). Saved as a transformers
``PreTrainedTokenizerFast``: ``AutoTokenizer.from_pretrained(dir)`` loads it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from pathlib import Path

# The jupyter-cursor next-edit format's markers (jupyter_cursor/nextedit/formats/).
MARKERS = [
    "<|edits|>",
    "<|context|>",
    "<|region|>",
    "<|/region|>",
    "<|cursor|>",
    "<|rewrite|>",
    "<|end|>",
    "<|cell|>",
]
EOS = "<|endoftext|>"
PAD = "<|pad|>"
SPECIAL_TOKENS = [EOS, PAD, *MARKERS]


def train(texts: Iterable[str], out_dir: Path, vocab_size: int = 8192):
    """Train on ``texts``, save to ``out_dir``; return the PreTrainedTokenizerFast."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        min_frequency=2,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    fast = with_markers_in_text(tokenizer)
    out_dir.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(out_dir)
    return fast


def with_markers_in_text(tokenizer):
    """A PreTrainedTokenizerFast over ``tokenizer`` (a ``tokenizers.Tokenizer`` or a transformers
    fast tokenizer) whose markers are non-special added tokens: same ids, kept by decoding."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    raw = json.loads(backend.to_str())
    for token in raw["added_tokens"]:
        if token["content"] in MARKERS:
            token["special"] = False
    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(json.dumps(raw)),
        eos_token=EOS,
        pad_token=PAD,
        bos_token=EOS,
        model_max_length=2048,
        clean_up_tokenization_spaces=False,
    )


def sample_texts(texts: Iterable[str], max_chars: int, seed: int = 0) -> list[str]:
    """A random sample of whole files, about ``max_chars`` in all."""
    pool = list(texts)
    random.Random(seed).shuffle(pool)
    out, total = [], 0
    for text in pool:
        if total >= max_chars:
            break
        out.append(text)
        total += len(text)
    return out
