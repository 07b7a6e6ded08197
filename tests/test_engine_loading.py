"""Loading plans and the 4-bit path: bitsandbytes NF4 on the CPU here, on CUDA where there is one."""

import asyncio
import importlib.util

import pytest
import torch

from jupyter_cursor.engine import EngineConfig, EngineError, GenerationRequest, create_runtime
from jupyter_cursor.engine.loading import cpu_default, load_model, plan_for
from jupyter_cursor.engine.testing import build_random_model

needs_bnb = pytest.mark.skipif(
    importlib.util.find_spec("bitsandbytes") is None, reason="needs bitsandbytes"
)


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory):
    return str(build_random_model(tmp_path_factory.mktemp("tiny-llama"), "tiny", "llama"))


def test_auto_plans_4bit_bf16_on_cuda_and_the_measured_default_on_the_cpu():
    cuda = plan_for(EngineConfig(model="m"), cuda_available=True)
    assert (cuda.device, cuda.quantization, cuda.dtype) == ("cuda", "4bit", "bfloat16")
    cpu = plan_for(EngineConfig(model="m"), cuda_available=False)
    assert (cpu.device, cpu.quantization, cpu.dtype) == (
        "cpu",
        cpu_default()["quantization"],
        cpu_default()["dtype"],
    )
    explicit = plan_for(
        EngineConfig(model="m", quantization="none", dtype="float16"), cuda_available=True
    )
    assert (explicit.quantization, explicit.dtype) == ("none", "float16")


def test_a_small_local_model_runs_in_fp32_on_the_cpu_whatever_is_installed(tiny_llama):
    plan = plan_for(EngineConfig(model=tiny_llama), cuda_available=False)
    assert (plan.quantization, plan.dtype) == ("none", "float32")
    # On a GPU the 4-bit default stands, small or not.
    assert plan_for(EngineConfig(model=tiny_llama), cuda_available=True).quantization == "4bit"


def test_asking_for_cuda_without_it_is_refused():
    with pytest.raises(EngineError) as refused:
        plan_for(EngineConfig(model="m", device="cuda"), cuda_available=False)
    assert refused.value.code == "no_cuda"


def test_any_causal_lm_family_loads_in_bf16(tiny_llama):
    loaded = load_model(
        EngineConfig(model=tiny_llama, device="cpu", dtype="bfloat16", quantization="none")
    )
    assert type(loaded.model).__name__ == "LlamaForCausalLM"
    assert next(loaded.model.parameters()).dtype == torch.bfloat16


async def _generate(config):
    runtime = create_runtime(config)
    runtime.start()
    while runtime.status()["state"] == "loading":
        await asyncio.sleep(0.01)
    try:
        chunks = [
            c async for c in runtime.generate(GenerationRequest("def f(x):\n", max_new_tokens=8))
        ]
        return runtime.status(), chunks[-1]
    finally:
        runtime.close()


@needs_bnb
def test_nf4_loads_and_generates_on_the_cpu(tiny_llama):
    from bitsandbytes.nn import Linear4bit

    full = load_model(EngineConfig(model=tiny_llama, device="cpu", quantization="none"))
    quantized = load_model(
        EngineConfig(model=tiny_llama, device="cpu", quantization="4bit", dtype="bfloat16")
    )
    assert any(isinstance(m, Linear4bit) for m in quantized.model.modules())
    assert quantized.memory_bytes < full.memory_bytes
    status, final = asyncio.run(
        _generate(EngineConfig(model=tiny_llama, device="cpu", quantization="4bit"))
    )
    assert status["quantization"] == "4bit" and status["state"] == "ready"
    assert final.finish_reason in ("length", "eos") and 0 < final.timings["tokens"] <= 8


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@needs_bnb
def test_defaults_on_cuda_are_nf4_with_bf16_compute(tiny_llama):
    status, final = asyncio.run(_generate(EngineConfig(model=tiny_llama)))
    assert (status["device"], status["quantization"], status["dtype"]) == (
        "cuda",
        "4bit",
        "bfloat16",
    )
    assert status["memory_bytes"] > 0
    assert final.finish_reason in ("length", "eos")
