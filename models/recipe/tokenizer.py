"""A byte-level BPE trained on the corpus, with the next-edit format's markers as special tokens.

Byte-level, so any text encodes and nothing is unknown. The markers are special (never split, never
merged with the text around them), so the model sees each as one token in prompts and completions.
Saved as a transformers ``PreTrainedTokenizerFast``: ``AutoTokenizer.from_pretrained(dir)`` loads it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path

# The jupyter-cursor next-edit format's markers (jupyter_cursor/nextedit/formats/).
MARKERS = ["<|edits|>", "<|context|>", "<|region|>", "<|/region|>", "<|cursor|>", "<|rewrite|>",
           "<|end|>", "<|cell|>"]
EOS = "<|endoftext|>"
PAD = "<|pad|>"
SPECIAL_TOKENS = [EOS, PAD, *MARKERS]


def train(texts: Iterable[str], out_dir: Path, vocab_size: int = 8192):
    """Train on ``texts``, save to ``out_dir``; return the PreTrainedTokenizerFast."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, min_frequency=2,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tokenizer.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=EOS, pad_token=PAD,
                                   bos_token=EOS, additional_special_tokens=MARKERS,
                                   model_max_length=2048, clean_up_tokenization_spaces=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(out_dir)
    return fast


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
