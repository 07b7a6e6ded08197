"""Export a trained model as the shipped default: bf16 safetensors (files of at most 16 MB), config,
generation config (stops on ``<|end|>``) and tokenizer, into ``jupyter_cursor/models/default/``.

The model card (README.md) in that folder is kept; every other file is replaced.
"""

from __future__ import annotations

from pathlib import Path

from .tokenizer import with_markers_in_text

MAX_SHARD = "16MB"


def export(model_dir: Path, out_dir: Path) -> dict[str, int]:
    """Write the export; return {file name: bytes}."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16)
    tokenizer = with_markers_in_text(AutoTokenizer.from_pretrained(model_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.iterdir():
        if stale.is_file() and stale.name != "README.md":
            stale.unlink()
    end = tokenizer.convert_tokens_to_ids("<|end|>")
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=[end, tokenizer.eos_token_id],
        pad_token_id=tokenizer.pad_token_id,
        do_sample=False,
    )
    model.save_pretrained(out_dir, safe_serialization=True, max_shard_size=MAX_SHARD)
    tokenizer.save_pretrained(out_dir)
    files = [f for f in sorted(out_dir.iterdir()) if f.is_file()]
    for f in files:
        f.chmod(0o644)  # safetensors writes 0600: an installed package must be readable by all
    return {f.name: f.stat().st_size for f in files}
