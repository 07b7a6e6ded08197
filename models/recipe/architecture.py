"""The model: a small Llama-shaped decoder, expressed as a transformers config.

LlamaForCausalLM loads with AutoModelForCausalLM everywhere the runtime does (bf16/fp32 on the CPU,
bitsandbytes NF4 on CUDA or the CPU: every linear layer's width is a multiple of bitsandbytes' 64-wide
blocks). Sized for 2 CPU cores to train in about an hour and for the wheel: ~6.8M parameters, ~14 MB
in bf16, with the input embedding tied to the output head.
"""

from __future__ import annotations

# fmt: off
SIZES = {
    # hidden, layers, heads, kv heads, MLP width
    "default": dict(hidden_size=256, num_hidden_layers=6, num_attention_heads=4,
                    num_key_value_heads=2, intermediate_size=768),
    # For the recipe's tests: the same code path in seconds.
    "tiny": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                 num_key_value_heads=1, intermediate_size=128),
}
# fmt: on
MAX_POSITIONS = 2048


def model_config(tokenizer, size: str = "default"):
    from transformers import LlamaConfig

    end = tokenizer.convert_tokens_to_ids("<|end|>")
    return LlamaConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=MAX_POSITIONS,
        rope_theta=10000.0,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=[end, tokenizer.eos_token_id],
        pad_token_id=tokenizer.pad_token_id,
        **SIZES[size],
    )
