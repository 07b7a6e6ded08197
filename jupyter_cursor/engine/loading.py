"""Loading a causal LM: where it runs, in which precision, and what that cost."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .config import EngineConfig, EngineError

# Below this many bytes of weights on disk a model is "small": per-token overhead, not reading the
# weights, bounds its decoding, and fp32 is fastest (the tiny shape in benchmarks/RESULTS.md: fp32
# 0.4 ms/token, bf16 0.6, NF4 0.9). The 0.5B shape (~1 GB in bf16) is past it. The measured points
# are a few MB and ~1 GB; the threshold sits between them.
SMALL_MODEL_BYTES = 256 * 2**20


def cpu_default(weights_bytes: int | None = None) -> dict:
    """The CPU's precision when quantization/dtype are "auto", from benchmarks/bench_engine.py.

    A small model (``weights_bytes`` under SMALL_MODEL_BYTES, e.g. the shipped default) runs in
    fp32. On a Qwen2.5-Coder-0.5B shape (2-core AVX512-BF16 EPYC, benchmarks/RESULTS.md) NF4
    decoded 2x faster than bf16 and 2.8x faster than fp32 (decode reads every weight once per
    token, and NF4 reads a quarter of bf16's bytes) at the same prefill time and half bf16's memory.
    Without bitsandbytes, bf16 where the CPU has bf16 instructions; else fp32, as emulated bf16 is
    slow. ``weights_bytes`` None (a hub id not on disk): judged as a large model.
    """
    import importlib.util

    if weights_bytes is not None and weights_bytes < SMALL_MODEL_BYTES:
        return {"quantization": "none", "dtype": "float32"}
    if importlib.util.find_spec("bitsandbytes") is not None:
        return {"quantization": "4bit", "dtype": "bfloat16"}
    return {"quantization": "none", "dtype": "bfloat16" if _cpu_has_bf16() else "float32"}


def weights_bytes(model: str) -> int | None:
    """Bytes of weight files in a local model folder; None when ``model`` is not one."""
    folder = Path(model)
    if not folder.is_dir():
        return None
    files = [*folder.glob("*.safetensors"), *folder.glob("*.bin")]
    return sum(f.stat().st_size for f in files) if files else None


def _cpu_has_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:  # not Linux: stay with what every CPU does well
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass
class Plan:
    device: str
    dtype: str
    quantization: str


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    plan: Plan
    memory_bytes: int
    load_time_s: float


def plan_for(config: EngineConfig, cuda_available: bool | None = None) -> Plan:
    """Resolve the "auto" settings against the machine."""
    if cuda_available is None:
        cuda_available = torch.cuda.is_available()
    device = config.device
    if device == "auto":
        device = "cuda" if cuda_available else "cpu"
    if device == "cuda" and not cuda_available:
        raise EngineError("no_cuda", "device is 'cuda' but PyTorch sees no CUDA device")
    if device == "cuda":
        quantization = "4bit" if config.quantization == "auto" else config.quantization
        dtype = "bfloat16" if config.dtype == "auto" else config.dtype
    else:
        default = cpu_default(weights_bytes(config.model) if config.model else None)
        quantization = (
            default["quantization"] if config.quantization == "auto" else config.quantization
        )
        dtype = default["dtype"] if config.dtype == "auto" else config.dtype
    return Plan(device=device, dtype=dtype, quantization=quantization)


def _quantization_config(plan: Plan):
    try:
        import bitsandbytes  # noqa: F401  (transformers asks for it lazily, with a vaguer error)
    except ImportError as e:
        raise EngineError(
            "missing_dependency",
            "4-bit loading needs bitsandbytes (pip install bitsandbytes), or set quantization to 'none'",
        ) from e
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=_DTYPES[plan.dtype],
    )


def load_model(config: EngineConfig, plan: Plan | None = None) -> LoadedModel:
    """Load tokenizer and model as planned; errors become EngineError("load_failed")."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not config.model:
        raise EngineError("not_configured", "no model configured")
    plan = plan or plan_for(config)
    if config.cpu_threads > 0:
        torch.set_num_threads(config.cpu_threads)
    started = time.perf_counter()
    kwargs: dict[str, Any] = {
        "trust_remote_code": config.trust_remote_code,
        "dtype": _DTYPES[plan.dtype],
    }
    if plan.quantization == "4bit":
        kwargs["quantization_config"] = _quantization_config(plan)
        # bitsandbytes quantises while placing weights on their device, so it needs a device map.
        kwargs["device_map"] = {"": 0} if plan.device == "cuda" else {"": "cpu"}
    if plan.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            config.model, trust_remote_code=config.trust_remote_code
        )
        model = AutoModelForCausalLM.from_pretrained(config.model, **kwargs)
        if plan.quantization != "4bit":
            model.to(plan.device)
        model.eval()
    except EngineError:
        raise
    except Exception as e:  # a bad path, a missing file, an unsupported architecture, OOM
        raise EngineError(
            "load_failed", f"could not load {config.model!r}: {type(e).__name__}: {e}"
        ) from e
    if plan.device == "cuda":
        torch.cuda.synchronize()
        memory = torch.cuda.memory_allocated()
    else:
        memory = model.get_memory_footprint()
    return LoadedModel(model, tokenizer, plan, int(memory), time.perf_counter() - started)
