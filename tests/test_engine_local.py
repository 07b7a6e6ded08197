"""The local runtime on tiny random-weight models made here, through the real loading code."""

import asyncio
import contextlib
import time

import pytest
import torch

from jupyter_cursor.engine import (
    EngineConfig,
    EngineError,
    GenerationRequest,
    Priority,
    create_runtime,
    text_stream,
)
from jupyter_cursor.engine.testing import build_random_model

PROMPT = "def load(path):\n    with open(path) as f:\n        return f.read()\n"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    return str(build_random_model(tmp_path_factory.mktemp("tiny-qwen2"), "tiny", "qwen2"))


async def started(config, timeout=60.0):
    runtime = create_runtime(config)
    runtime.start()
    deadline = time.monotonic() + timeout
    while runtime.status()["state"] == "loading" and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    return runtime


async def collect(runtime, request):
    chunks = [chunk async for chunk in runtime.generate(request)]
    return chunks


def run(coroutine):
    return asyncio.run(coroutine)


def test_loads_from_a_path_and_reports_it(tiny_model):
    async def main():
        seen = []
        runtime = create_runtime(
            EngineConfig(model=tiny_model, quantization="none", dtype="float32"),
            on_status=seen.append,
        )
        runtime.start()
        while runtime.status()["state"] == "loading":
            await asyncio.sleep(0.01)
        status = runtime.status()
        runtime.close()
        await asyncio.sleep(0.05)
        return status, [s["state"] for s in seen]

    status, states = run(main())
    assert status["state"] == "ready", status
    assert (status["device"], status["dtype"], status["quantization"]) == ("cpu", "float32", "none")
    assert status["memory_bytes"] > 0 and status["load_time_s"] > 0
    # The callback heard every change, on the loop that started the runtime.
    assert states[0] == "loading" and "ready" in states and states[-1] == "closed"


def test_streams_the_same_tokens_as_transformers_generate_and_their_least_probability(tiny_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    ids = tokenizer(PROMPT, return_tensors="pt").input_ids
    reference = model.generate(
        ids,
        max_new_tokens=24,
        do_sample=False,
        min_new_tokens=24,
        output_scores=True,
        return_dict_in_generate=True,
    )
    chosen = reference.sequences[0, ids.shape[1] :]
    expected = tokenizer.decode(chosen, skip_special_tokens=True).rstrip("\ufffd")
    probs = [
        torch.softmax(score[0].float(), -1)[token].item()
        for score, token in zip(reference.scores, chosen)
    ]

    async def main():
        runtime = await started(
            EngineConfig(model=tiny_model, quantization="none", dtype="float32")
        )
        try:
            # Prompt lookup on and off: speculation must not change greedy output.
            return [
                await collect(
                    runtime, GenerationRequest(PROMPT, max_new_tokens=24, prompt_lookup=pl)
                )
                for pl in (True, False)
            ]
        finally:
            runtime.close()

    for chunks in run(main()):
        final = chunks[-1]
        assert final.done and final.finish_reason in ("length", "eos")
        assert final.text == expected
        assert "".join(c.delta for c in chunks) == final.text
        assert all(not c.done for c in chunks[:-1]) and len(chunks) > 2  # streamed as it came
        assert final.timings["tokens"] <= 24
        assert set(final.timings) >= {
            "queue_ms",
            "prefill_ms",
            "decode_ms",
            "ttft_ms",
            "total_ms",
            "tokens",
        }
        # The least probability of a chosen token, as generate scored them; each partial tells the
        # least so far, so it never rises.
        assert final.min_token_prob == pytest.approx(min(probs), abs=1e-4) and 0 < min(probs) < 1
        seen = [c.min_token_prob for c in chunks]
        assert all(a >= b for a, b in zip(seen, seen[1:]))


def test_reuses_the_shared_prefix_without_changing_the_output(tiny_model):
    async def main():
        runtime = await started(
            EngineConfig(
                model=tiny_model, quantization="none", dtype="float32", prefix_reuse_min_tokens=8
            )
        )
        try:
            first = await collect(runtime, GenerationRequest(PROMPT * 3, max_new_tokens=16))
            again = await collect(runtime, GenerationRequest(PROMPT * 3 + "x", max_new_tokens=16))
            other = await collect(runtime, GenerationRequest("import numpy", max_new_tokens=16))
            fresh = await started(
                EngineConfig(model=tiny_model, quantization="none", dtype="float32")
            )
            try:
                alone = await collect(fresh, GenerationRequest(PROMPT * 3 + "x", max_new_tokens=16))
            finally:
                fresh.close()
            return first[-1], again[-1], other[-1], alone[-1]
        finally:
            runtime.close()

    first, again, other, alone = run(main())
    assert first.timings["reused_prefix_tokens"] == 0
    assert again.timings["reused_prefix_tokens"] > 50
    assert other.timings["reused_prefix_tokens"] == 0
    assert again.text == alone.text


def greedy_text(tiny_model, prompt, tokens=40):
    async def main():
        runtime = await started(
            EngineConfig(model=tiny_model, quantization="none", dtype="float32")
        )
        try:
            return (await collect(runtime, GenerationRequest(prompt, max_new_tokens=tokens)))[-1]
        finally:
            runtime.close()

    return run(main())


def test_stops_at_a_stop_string(tiny_model):
    free = greedy_text(tiny_model, PROMPT).text
    # A stop string taken from the middle of what the model writes anyway.
    start = next(
        i for i in range(8, len(free) - 3) if free[i : i + 3].isascii() and free[i : i + 3].strip()
    )
    stop = free[start : start + 3]

    async def main():
        runtime = await started(
            EngineConfig(model=tiny_model, quantization="none", dtype="float32")
        )
        try:
            return await collect(runtime, GenerationRequest(PROMPT, max_new_tokens=40, stop=[stop]))
        finally:
            runtime.close()

    chunks = run(main())
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].text == free[: free.index(stop)]
    assert all(stop not in c.text for c in chunks)


def test_stops_early_once_the_output_rejoins_the_original(tiny_model):
    free = greedy_text(tiny_model, PROMPT)
    # The original differs from the output at its start, then holds the rest of it and more.
    original = "\x01" + free.text[6:] + "# unchanged tail\n"

    async def main():
        runtime = await started(
            EngineConfig(model=tiny_model, quantization="none", dtype="float32")
        )
        try:
            request = GenerationRequest(
                PROMPT, max_new_tokens=40, original=original, rejoin_chars=8
            )
            return (await collect(runtime, request))[-1]
        finally:
            runtime.close()

    final = run(main())
    assert final.finish_reason == "rejoined"
    assert final.text == free.text + "# unchanged tail\n"
    assert final.timings["tokens"] < free.timings["tokens"]


def test_cancelling_the_consumer_frees_the_worker(tiny_model):
    async def main():
        runtime = await started(
            EngineConfig(model=tiny_model, quantization="none", dtype="float32")
        )
        try:
            long = GenerationRequest(PROMPT, max_new_tokens=100_000, prompt_lookup=False)
            async with contextlib.aclosing(runtime.generate(long)) as stream:
                async for _ in stream:
                    break
            task = asyncio.create_task(collect(runtime, long))
            await asyncio.sleep(0.2)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            deadline = time.monotonic() + 2
            while runtime.status()["queue_length"] and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            queue = runtime.status()["queue_length"]
            after = await collect(runtime, GenerationRequest(PROMPT, max_new_tokens=4))
            return queue, after[-1]
        finally:
            runtime.close()

    queue, after = run(main())
    assert queue == 0
    assert after.finish_reason in ("length", "eos") and after.timings["queue_ms"] < 1000


def test_a_newer_request_with_the_same_key_replaces_the_older(tiny_model):
    async def main():
        runtime = await started(
            EngineConfig(model=tiny_model, quantization="none", dtype="float32")
        )
        try:
            older = asyncio.create_task(
                collect(
                    runtime,
                    GenerationRequest(
                        PROMPT,
                        max_new_tokens=100_000,
                        key="notebook.ipynb",
                        priority=Priority.NEXT_EDIT,
                    ),
                )
            )
            await asyncio.sleep(0.2)
            newer = await collect(
                runtime,
                GenerationRequest(
                    PROMPT, max_new_tokens=4, key="notebook.ipynb", priority=Priority.NEXT_EDIT
                ),
            )
            return await asyncio.wait_for(older, 5), newer
        finally:
            runtime.close()

    older, newer = run(main())
    assert older[-1].finish_reason == "replaced"
    assert newer[-1].finish_reason in ("length", "eos")


def test_next_edit_runs_ahead_of_apply_ahead_of_chat(tiny_model):
    async def main():
        runtime = await started(
            EngineConfig(model=tiny_model, quantization="none", dtype="float32")
        )
        finished = []

        chat_running = asyncio.Event()

        async def request(name, priority, tokens):
            chunks = []
            async for chunk in runtime.generate(
                GenerationRequest(
                    PROMPT, max_new_tokens=tokens, priority=priority, prompt_lookup=False
                )
            ):
                chunks.append(chunk)
                chat_running.set()
            finished.append(name)
            return chunks[-1]

        try:
            chat = asyncio.create_task(request("chat", Priority.CHAT, 400))
            await chat_running.wait()
            apply = asyncio.create_task(request("apply", Priority.APPLY, 20))
            next_edit = asyncio.create_task(request("next_edit", Priority.NEXT_EDIT, 20))
            await asyncio.gather(chat, apply, next_edit)
            return finished, chat.result()
        finally:
            runtime.close()

    finished, chat = run(main())
    # The chat was paused at a token boundary, not finished first, and still ran to its end.
    assert finished == ["next_edit", "apply", "chat"]
    assert chat.finish_reason in ("length", "eos")


def test_a_failing_forward_pass_is_reported_and_the_runtime_recovers(tiny_model):
    async def main():
        runtime = await started(
            EngineConfig(model=tiny_model, quantization="none", dtype="float32")
        )
        model = runtime._scheduler.loaded.model
        forward = model.forward

        def out_of_memory(*args, **kwargs):
            model.forward = forward
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")

        model.forward = out_of_memory
        try:
            with pytest.raises(EngineError) as failed:
                await collect(runtime, GenerationRequest(PROMPT, max_new_tokens=4))
            status = runtime.status()
            after = await collect(runtime, GenerationRequest(PROMPT, max_new_tokens=4))
            return failed.value, status, after[-1]
        finally:
            runtime.close()

    error, status, after = run(main())
    assert error.code == "out_of_memory"
    assert status["state"] == "ready" and "out of memory" in status["last_error"]
    assert after.finish_reason in ("length", "eos")


def test_a_bad_model_path_is_an_error_state_not_a_crash(tmp_path):
    async def main():
        runtime = await started(EngineConfig(model=str(tmp_path / "missing")))
        try:
            with pytest.raises(EngineError) as refused:
                await collect(runtime, GenerationRequest("x"))
            return runtime.status(), refused.value
        finally:
            runtime.close()

    status, refused = run(main())
    assert status["state"] == "error" and "missing" in status["last_error"]
    assert refused.code == "not_ready"


def test_without_a_model_it_is_not_configured():
    async def main():
        runtime = create_runtime(EngineConfig())
        runtime.start()
        with pytest.raises(EngineError) as refused:
            await collect(runtime, GenerationRequest("x"))
        return runtime.status(), refused.value

    status, refused = run(main())
    assert status["state"] == "not_configured" and refused.code == "not_configured"


def test_the_event_loop_keeps_running_during_generation(tiny_model):
    async def lag_samples(until):
        samples = []
        while not until.done():
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            samples.append(time.perf_counter() - before - 0.005)
        return samples

    async def main():
        runtime = await started(
            EngineConfig(model=tiny_model, quantization="none", dtype="float32")
        )
        try:
            task = asyncio.create_task(
                collect(
                    runtime, GenerationRequest(PROMPT * 4, max_new_tokens=150, prompt_lookup=False)
                )
            )
            samples = await lag_samples(task)
            return samples, task.result()[-1]
        finally:
            runtime.close()

    samples, final = run(main())
    # Run on the loop, the generation would have held it for its whole length.
    assert len(samples) > 10
    assert max(samples) * 1000 < min(250, final.timings["total_ms"] / 2)


def test_text_stream_gives_the_deltas_providers_expect(tiny_model):
    async def main():
        runtime = await started(
            EngineConfig(model=tiny_model, quantization="none", dtype="float32")
        )
        try:
            pieces = [d async for d in text_stream(runtime)(PROMPT, 12, [])]
            final = (
                await collect(
                    runtime, GenerationRequest(PROMPT, max_new_tokens=12, prompt_lookup=False)
                )
            )[-1]
            return pieces, final
        finally:
            runtime.close()

    pieces, final = run(main())
    assert len(pieces) > 1 and "".join(pieces) == final.text


def test_a_special_token_named_as_a_stop_string_stops_generation(tmp_path):
    """Sweep's format stops on <|file_sep|>, a special token in Qwen's vocabulary: decoding must not
    hide the very token that ends the answer."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from jupyter_cursor.engine.decoding import Decoder

    path = build_random_model(tmp_path / "m")
    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|file_sep|>"]})
    model = AutoModelForCausalLM.from_pretrained(path)
    sep = tokenizer.convert_tokens_to_ids("<|file_sep|>")
    model.resize_token_embeddings(len(tokenizer))
    # A head that always says <|file_sep|>.
    head = torch.nn.Linear(model.config.hidden_size, len(tokenizer), bias=True)
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
        head.bias[sep] = 10.0
    model.lm_head = head
    decoder = Decoder(model, tokenizer, "cpu", max_new_tokens=8, prefix_reuse_min_tokens=32)

    def final(stop):
        chunks = list(decoder.run(GenerationRequest(PROMPT, stop=stop, prompt_lookup=False)))
        return chunks[-1]

    assert final(["<|file_sep|>"]).finish_reason == "stop"
    hidden = final([])  # not a stop: the special token stays out of the text
    assert hidden.finish_reason == "length" and "<|file_sep|>" not in hidden.text
