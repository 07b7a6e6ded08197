"""Latency of the model runtime (jupyter_cursor/engine) per model shape, precision and device.

    nice -n 10 .venv/bin/python benchmarks/bench_engine.py [--quick] [--device cpu|cuda] [--append]

Models are made here with random weights (no downloads): "tiny", and Qwen2.5-Coder-0.5B- and
1.5B-shaped ones, which give the latency shape of the real models, not their output. Each
(shape, precision) runs in its own process, so load time and peak memory are its own. Per run:
load time, prefill of 1k tokens, time per generated token, time to first token (1k-token prompt,
cold and with its prefix in the KV cache), peak memory, prompt-lookup acceptance on a copy-heavy
prompt and the cost of verifying a 10-token draft, and the event loop's lag idle and under load.

Random weights do not copy their prompt, so prompt lookup's speed-up is measured on a tiny model
trained here for a minute to copy (``copier``), and projected to the larger shapes from their own
measured verification cost (tokens gained per verification step / step cost ratio).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from machine import machine  # noqa: E402

MODELS = Path(tempfile.gettempdir()) / "jupyter_cursor_bench_models"
DRAFT = 10
COPY_LENGTH = 48


def code_text(n_lines: int, seed: int = 0) -> str:
    """Notebook-like code; ``seed`` changes the first line, so prompts share no cached prefix."""
    lines = [f"# cell {seed}: feature engineering\n"]
    lines += [
        f"x{i} = df['col_{i % 13}'].rolling({i % 7 + 2}).mean() * {i % 5}\n" for i in range(n_lines)
    ]
    return "".join(lines)


def prompt_of(tokenizer, tokens: int, seed: int) -> str:
    ids = tokenizer(code_text(tokens, seed))["input_ids"][:tokens]
    return tokenizer.decode(ids)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


async def loop_lag(until: asyncio.Future | float) -> list[float]:
    """Lateness of a 1 ms sleep, in ms, until the future is done or for that many seconds."""
    samples, deadline = [], time.perf_counter() + until if isinstance(until, float) else None
    while (time.perf_counter() < deadline) if deadline else not until.done():
        before = time.perf_counter()
        await asyncio.sleep(0.001)
        samples.append((time.perf_counter() - before - 0.001) * 1000)
    return samples


def percentile(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else None


async def measure(
    path: str, device: str, quantization: str, dtype: str, tokens: int, reps: int
) -> dict:
    import torch

    from jupyter_cursor.engine import EngineConfig, GenerationRequest, create_runtime

    runtime = create_runtime(
        EngineConfig(model=path, device=device, quantization=quantization, dtype=dtype)
    )
    runtime.start()
    while runtime.status()["state"] == "loading":
        await asyncio.sleep(0.01)
    status = runtime.status()
    if status["state"] != "ready":
        return {"error": status["last_error"]}
    tokenizer = runtime._scheduler.loaded.tokenizer

    async def final(**kw):
        chunks = [chunk async for chunk in runtime.generate(GenerationRequest(**kw))]
        return chunks[-1].timings

    await final(prompt="def f(x):\n", max_new_tokens=2)  # warm-up
    idle = await loop_lag(1.0)
    cold, warm, reused = [], [], []
    for rep in range(reps):
        long_prompt = prompt_of(tokenizer, 1024, seed=rep + 1)
        cold.append(await final(prompt=long_prompt, max_new_tokens=1, prompt_lookup=False))
        # The same notebook one keystroke later: its 1k-token prefix is in the cache.
        t = await final(prompt=long_prompt + "y = 1\n", max_new_tokens=1, prompt_lookup=False)
        warm.append(t)
        reused.append(t["reused_prefix_tokens"])
    per_token, busy = [], []
    for rep in range(reps):
        task = asyncio.ensure_future(
            final(
                prompt=prompt_of(tokenizer, 128, seed=100 + rep),
                max_new_tokens=tokens,
                prompt_lookup=False,
            )
        )
        busy += await loop_lag(task)
        t = task.result()
        if t["tokens"] > 1:
            per_token.append(t["decode_ms"] / (t["tokens"] - 1))
    # Copy-heavy prompt: how much of a random model's output prompt lookup would have drafted.
    region = code_text(12, seed=7)
    lookup = await final(prompt=region + "\n# rewritten:\n" + region[:40], max_new_tokens=tokens)
    # The cost of verifying a draft: one forward of 1 + DRAFT tokens against one of 1 token.
    model = runtime._scheduler.loaded.model
    ids = tokenizer(prompt_of(tokenizer, 512, seed=9), return_tensors="pt")["input_ids"].to(
        model.device
    )
    step = {}
    with torch.inference_mode():
        cache = model(input_ids=ids, use_cache=True).past_key_values
        for width in (1, 1 + DRAFT):
            times = []
            for _ in range(max(3, reps)):
                if device == "cuda":
                    torch.cuda.synchronize()
                started = time.perf_counter()
                model(input_ids=ids[:, :width], past_key_values=cache, use_cache=True)
                if device == "cuda":
                    torch.cuda.synchronize()
                times.append((time.perf_counter() - started) * 1000)
                cache.crop(-width)  # back to the 512-token prompt
            step[width] = median(times)
    runtime.close()
    peak = (
        torch.cuda.max_memory_allocated()
        if device == "cuda"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    )
    return {
        "device": status["device"],
        "dtype": status["dtype"],
        "quantization": status["quantization"],
        "load_s": status["load_time_s"],
        "memory_bytes": status["memory_bytes"],
        "peak_bytes": peak,
        "prefill_1k_ms": median([t["prefill_ms"] for t in cold]),
        "ttft_1k_cold_ms": median([t["ttft_ms"] for t in cold]),
        "ttft_1k_warm_ms": median([t["ttft_ms"] for t in warm]),
        "reused_tokens": median(reused),
        "ms_per_token": median(per_token),
        "lookup_acceptance": lookup["draft_accepted"] / max(1, lookup["draft_proposed"]),
        "verify_cost_ratio": step[1 + DRAFT] / step[1],
        "lag_idle_p50_ms": percentile(idle, 0.5),
        "lag_idle_p99_ms": percentile(idle, 0.99),
        "lag_busy_p50_ms": percentile(busy, 0.5),
        "lag_busy_p99_ms": percentile(busy, 0.99),
    }


def copy_source(tokenizer, generator, length: int) -> list[int]:
    """``length`` random printable ASCII characters, one token each (the copier's tokenizer has no
    merges), so the runtime's tokenization of the text is exactly these ids."""
    import torch

    codes = torch.randint(33, 127, (length,), generator=generator).tolist()
    return tokenizer("".join(map(chr, codes)))["input_ids"]


def train_copier(path: Path, seconds: float) -> dict:
    """A tiny Qwen2 trained to repeat its prompt after <|copy|>: a model whose output copies."""
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config

    from jupyter_cursor.engine.testing import build_tokenizer

    tokenizer = build_tokenizer(vocab_size=100)  # below the byte alphabet: no merges
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|copy|>"]})
    sep, eos = tokenizer.convert_tokens_to_ids("<|copy|>"), tokenizer.eos_token_id
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        tie_word_embeddings=True,
        eos_token_id=eos,
        bos_token_id=eos,
        pad_token_id=eos,
    )
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    batch, steps = 32, 0
    generator = torch.Generator().manual_seed(0)
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        # One length: the copy is learnt in a few hundred steps (with varied lengths it was not).
        source = torch.tensor(
            [copy_source(tokenizer, generator, COPY_LENGTH) for _ in range(batch)]
        )
        inputs = torch.cat(
            [source, torch.full((batch, 1), sep), source, torch.full((batch, 1), eos)], dim=1
        )
        labels = inputs.clone()
        labels[:, : COPY_LENGTH + 1] = -100  # learn the copy, not the random source
        loss = model(input_ids=inputs, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        steps += 1
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return {
        "train_steps": steps,
        "train_s": time.perf_counter() - started,
        "final_loss": float(loss),
    }


async def measure_copier(path: str, reps: int) -> dict:
    import torch

    from jupyter_cursor.engine import EngineConfig, GenerationRequest, create_runtime

    runtime = create_runtime(
        EngineConfig(model=path, device="cpu", quantization="none", dtype="float32")
    )
    runtime.start()
    while runtime.status()["state"] == "loading":
        await asyncio.sleep(0.01)
    tokenizer = runtime._scheduler.loaded.tokenizer
    results = {True: [], False: []}
    exact = []
    generator = torch.Generator().manual_seed(1)
    for _ in range(reps):
        source = copy_source(tokenizer, generator, COPY_LENGTH)
        prompt = tokenizer.decode(source) + "<|copy|>"
        texts = {}
        for lookup in (False, True):
            request = GenerationRequest(
                prompt, max_new_tokens=COPY_LENGTH + 8, prompt_lookup=lookup
            )
            chunk = [c async for c in runtime.generate(request)][-1]
            results[lookup].append(chunk.timings)
            texts[lookup] = chunk.text
        assert texts[True] == texts[False], "prompt lookup changed greedy output"
        exact.append(texts[True] == tokenizer.decode(source))
    runtime.close()
    plain = median([t["decode_ms"] for t in results[False]])
    fast = median([t["decode_ms"] for t in results[True]])
    steps = [t["tokens"] - 1 - t["draft_accepted"] for t in results[True]]
    return {
        "copy_exact": sum(exact) / len(exact),
        "decode_ms_plain": plain,
        "decode_ms_lookup": fast,
        "speedup": plain / fast,
        "acceptance": sum(t["draft_accepted"] for t in results[True])
        / max(1, sum(t["draft_proposed"] for t in results[True])),
        "tokens_per_step": median(
            [(t["tokens"] - 1) / max(1, s) for t, s in zip(results[True], steps)]
        ),
    }


def child(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    if args.one == "copier":
        path = MODELS / "copier"
        training = train_copier(path, args.train_seconds)
        result = {**training, **asyncio.run(measure_copier(str(path), args.reps))}
    else:
        from jupyter_cursor.engine.testing import build_random_model

        path = MODELS / args.one
        if not (path / "config.json").exists():
            # bf16 on disk halves the 1.5B file; fp32 runs upcast it on load.
            build_random_model(
                path, args.one, save_dtype="float32" if args.one == "tiny" else "bfloat16"
            )
        result = asyncio.run(
            measure(str(path), args.device, args.quantization, args.dtype, args.tokens, args.reps)
        )
    print("RESULT " + json.dumps(result))


PLANS = {
    # shape: (precisions, generated tokens, repetitions); the 1.5B run is bounded for 2 CPU cores.
    "tiny": ([("none", "float32"), ("none", "bfloat16"), ("4bit", "bfloat16")], 64, 5),
    "qwen2.5-coder-0.5b": (
        [("none", "float32"), ("none", "bfloat16"), ("4bit", "bfloat16")],
        16,
        3,
    ),
    "qwen2.5-coder-1.5b": ([("none", "float32"), ("4bit", "bfloat16")], 8, 1),
}


def run_child(extra: list[str]) -> dict:
    command = [sys.executable, __file__, *extra]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"error": (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]}


def fmt(value, digits=1):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def table(rows, copier) -> str:
    lines = [
        "| shape | device | weights | load s | memory MB | peak MB | prefill 1k ms | TTFT 1k cold ms | "
        "TTFT 1k warm ms | ms/token | lookup accept (random) | verify 1+10 / 1 | PL speed-up (projected) | "
        "loop lag idle p50/p99 ms | loop lag busy p50/p99 ms |",
        "|" + "---|" * 15,
    ]
    for (shape, quantization, dtype), r in rows:
        weights = "NF4/" + dtype if quantization == "4bit" else dtype
        if "error" in r:
            lines.append(f"| {shape} | | {weights} | error: {r['error']} |" + " |" * 11)
            continue
        projected = (
            copier.get("tokens_per_step", 0) / r["verify_cost_ratio"]
            if copier.get("tokens_per_step")
            else None
        )
        lines.append(
            f"| {shape} | {r['device']} | {weights} | {fmt(r['load_s'], 2)} | {fmt(r['memory_bytes'] / 2**20, 0)} | "
            f"{fmt(r['peak_bytes'] / 2**20, 0)} | {fmt(r['prefill_1k_ms'])} | {fmt(r['ttft_1k_cold_ms'])} | "
            f"{fmt(r['ttft_1k_warm_ms'])} ({int(r['reused_tokens'])} reused) | {fmt(r['ms_per_token'])} | "
            f"{r['lookup_acceptance']:.0%} | {fmt(r['verify_cost_ratio'], 2)}× | {fmt(projected, 2)}× | "
            f"{fmt(r['lag_idle_p50_ms'], 2)} / {fmt(r['lag_idle_p99_ms'], 2)} | "
            f"{fmt(r['lag_busy_p50_ms'], 2)} / {fmt(r['lag_busy_p99_ms'], 2)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--quantization", default="none", help=argparse.SUPPRESS)
    parser.add_argument("--dtype", default="float32", help=argparse.SUPPRESS)
    parser.add_argument("--tokens", type=int, default=16, help=argparse.SUPPRESS)
    parser.add_argument("--reps", type=int, default=3, help=argparse.SUPPRESS)
    parser.add_argument("--train-seconds", type=float, default=90.0)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="PyTorch CPU threads (1: on a shared 2-core machine two threads run ~30x slower)",
    )
    parser.add_argument(
        "--device", default=None, help="cpu or cuda (default: cuda when there is one)"
    )
    parser.add_argument("--shapes", default=",".join(PLANS))
    parser.add_argument(
        "--quick", action="store_true", help="the tiny shape only, short copier training"
    )
    parser.add_argument(
        "--append", action="store_true", help="append the table to benchmarks/RESULTS.md"
    )
    args = parser.parse_args()
    if args.one:
        return child(args)

    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    shapes = ["tiny"] if args.quick else args.shapes.split(",")
    rows = []
    for shape in shapes:
        precisions, tokens, reps = PLANS[shape]
        if device == "cuda":  # on the GPU: the default (NF4, bf16 compute) against bf16
            precisions, tokens, reps = [("4bit", "bfloat16"), ("none", "bfloat16")], 64, 5
        for quantization, dtype in precisions:
            started = time.perf_counter()
            result = run_child(
                [
                    "--one",
                    shape,
                    "--device",
                    device,
                    "--threads",
                    str(args.threads),
                    "--quantization",
                    quantization,
                    "--dtype",
                    dtype,
                    "--tokens",
                    str(tokens),
                    "--reps",
                    str(reps),
                ]
            )
            print(
                f"{shape} {quantization}/{dtype}: {time.perf_counter() - started:.0f} s {result}",
                flush=True,
            )
            rows.append(((shape, quantization, dtype), result))
    copier = run_child(
        [
            "--one",
            "copier",
            "--reps",
            "5",
            "--threads",
            str(args.threads),
            "--train-seconds",
            str(20.0 if args.quick else args.train_seconds),
        ]
    )
    print(f"copier: {copier}", flush=True)
    report = "\n\n".join([table(rows, copier), copier_line(copier)])
    print(report)
    if args.append:
        append_results(report, device, " ".join(sys.argv[1:]))


def copier_line(c: dict) -> str:
    if "error" in c:
        return f"Copier: error {c['error']}"
    return (
        f"Prompt lookup on a model that copies (tiny Qwen2, 2 layers × 128, trained here for "
        f"{c['train_steps']} steps / {c['train_s']:.0f} s to repeat {COPY_LENGTH} random characters; exact copies "
        f"{c['copy_exact']:.0%}, output identical with and without lookup): decode "
        f"{c['decode_ms_plain']:.1f} ms → {c['decode_ms_lookup']:.1f} ms, **{c['speedup']:.2f}× faster**, "
        f"{c['acceptance']:.0%} of drafted tokens accepted, {c['tokens_per_step']:.1f} tokens per forward pass. "
        "The projected column divides those tokens per pass by each shape's measured cost of a "
        f"1+{DRAFT}-token verification pass."
    )


def append_results(report: str, device: str, command: str) -> None:
    results = ROOT / "benchmarks" / "RESULTS.md"
    section = (
        f"\n## Model runtime (issue 4) — `benchmarks/bench_engine.py`\n\n"
        f"Date: {datetime.date.today().isoformat()}. Command: `nice -n 10 .venv/bin/python "
        f"benchmarks/bench_engine.py {command}`. Machine: {machine()}, device {device}, "
        f"torch {__import__('torch').__version__}, shared with other jobs (noisy).\n\n"
        "All models have **random weights** (made by `jupyter_cursor.engine.testing`, no downloads): "
        "the Qwen2.5-Coder-shaped rows give the latency shape of those architectures, not their output. "
        "Medians. TTFT warm = the same 1k-token prompt plus one new line, its prefix reused from the KV "
        "cache. Lookup accept (random) is what a random model's output lets prompt lookup draft on a "
        "copy-heavy prompt (it does not copy, so ~0); loop lag is the lateness of a 1 ms asyncio sleep "
        "while idle and while the worker generates.\n\n" + report + "\n"
    )
    # Others append their sections too: read right before writing, and only append.
    with open(results, "a", encoding="utf-8") as f:
        f.write(section)


if __name__ == "__main__":
    main()
