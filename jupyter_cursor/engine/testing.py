"""Random-weight models made on this machine, for tests and benchmarks (no downloads).

The weights are random, so outputs are gibberish; what is real is the loading code they go
through and the latency shape of the architecture.
"""

from __future__ import annotations

from pathlib import Path

# Enough code-like text for a byte-level BPE to learn the usual Python pieces.
_CORPUS = [
    "import numpy as np\nimport pandas as pd\n",
    "def load(path):\n    with open(path) as f:\n        return f.read()\n",
    "for i in range(10):\n    print(i, i * i)\n",
    "class Model:\n    def __init__(self, size):\n        self.size = size\n",
    "df = pd.read_csv('data.csv')\ndf.head()\n",
    "result = [x + 1 for x in values if x > 0]\n",
]

# Architectures of the Qwen2.5-Coder family (their config.json), for the latency shape.
# fmt: off
SHAPES = {
    # Wider initial weights than the usual 0.02, so that greedy output varies instead of
    # repeating one token: tests of stop strings and rejoining need varied text.
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, vocab_size=None,
                 initializer_range=0.2),
    "qwen2.5-coder-0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                               num_attention_heads=14, num_key_value_heads=2, vocab_size=151936),
    "qwen2.5-coder-1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                               num_attention_heads=12, num_key_value_heads=2, vocab_size=151936),
}
# fmt: on


def cpu_config(model, **fields):
    """The EngineConfig that runs ``model`` (a directory build_random_model made) on one CPU thread
    in float32, unquantized; ``fields`` set the rest (``max_new_tokens``...)."""
    from . import EngineConfig

    return EngineConfig(
        model=str(model),
        device="cpu",
        quantization="none",
        dtype="float32",
        cpu_threads=1,
        **fields,
    )


def build_tokenizer(vocab_size: int = 400):
    """A byte-level BPE trained on a few lines of Python: any text encodes, nothing is unknown."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(_CORPUS * 10, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token="<|endoftext|>", pad_token="<|endoftext|>"
    )


def build_random_model(
    path: str | Path,
    shape: str = "tiny",
    family: str = "qwen2",
    seed: int = 0,
    save_dtype: str = "float32",
    special_tokens: tuple[str, ...] = (),
) -> Path:
    """Save a random-weight causal LM of ``shape`` and its tokenizer to ``path``; return it.
    ``special_tokens``: added to the tokenizer (a family's FIM tokens, for instance)."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig, Qwen2Config

    path = Path(path)
    tokenizer = build_tokenizer()
    if special_tokens:
        tokenizer.add_special_tokens({"additional_special_tokens": list(special_tokens)})
    dims = dict(SHAPES[shape])
    # A model vocabulary larger than the tokenizer's keeps the real LM-head cost; ids the
    # tokenizer lacks decode to nothing.
    dims["vocab_size"] = dims["vocab_size"] or len(tokenizer)
    eos = tokenizer.eos_token_id
    config_class = {"qwen2": Qwen2Config, "llama": LlamaConfig}[family]
    config = config_class(
        **dims,
        max_position_embeddings=32768,
        tie_word_embeddings=True,
        bos_token_id=eos,
        eos_token_id=eos,
        pad_token_id=eos,
    )
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=getattr(torch, save_dtype))
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
