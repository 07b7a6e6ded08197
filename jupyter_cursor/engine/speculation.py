"""Prompt-lookup drafts: when the output copies the prompt, the prompt predicts the next tokens.

An edit rewrite repeats its editable region almost token for token, so the tokens that followed
the latest earlier occurrence of the output's last n-gram are a cheap draft; one forward pass then
verifies the whole draft (see decoding.py). No draft model, no extra memory.
"""

from __future__ import annotations

import torch


def lookup_draft(
    ids: torch.Tensor, max_tokens: int, max_ngram: int = 3, min_ngram: int = 1
) -> list[int]:
    """Up to ``max_tokens`` draft tokens for the sequence ``ids`` (1-D), or [] without a match.

    Longer n-grams first (a longer match is a surer alignment). Among matches the most recent is
    taken: the editable region sits at the end of the prompt formats we use, right before the output.
    """
    length = ids.shape[0]
    if max_tokens <= 0:
        return []
    for n in range(min(max_ngram, length - 1), min_ngram - 1, -1):
        tail = ids[length - n :]
        # Windows ending before the last token: the tail itself is no match, and every match
        # leaves at least one token to draft.
        windows = ids[: length - 1].unfold(0, n, 1)
        hits = (windows == tail).all(dim=1).nonzero().flatten()
        if hits.numel():
            start = int(hits[-1]) + n
            return ids[start : start + max_tokens].tolist()
    return []
