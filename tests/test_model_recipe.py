"""The next-edit model's recipe (models/recipe), run end to end at a tiny scale, and the shipped
default model (jupyter_cursor/models/default) loaded through the engine."""

import asyncio
import gzip
import json

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from jupyter_cursor.engine import EngineConfig, GenerationRequest, create_runtime
from jupyter_cursor.engine.loading import load_model
from jupyter_cursor.models import shipped_model_path
from jupyter_cursor.nextedit.context import build_context
from jupyter_cursor.nextedit.formats import get_format
from models.recipe import tokenizer as recipe_tokenizer
from models.recipe.__main__ import main as recipe

FORMAT = get_format("jupyter-cursor")
SOURCE = "import numpy as np\n\ndef scale(values, factor):\n    total = sum(values)\n    return [v * factor / total for v in values]\n"


def nes_row(i: int) -> dict:
    """A train-split-shaped example: the user renamed ``values`` once; the next edit renames the rest."""
    before = SOURCE
    after = SOURCE.replace("(values, factor)", "(items, factor)")
    return {
        "id": f"t{i}",
        "path": "scale.py",
        "kind": "py",
        "cells": [{"id": "file", "cell_type": "code", "source": after}],
        "events": [{"cell_id": "file", "before": before, "after": after}],
        "cursor": {"cell_id": "file", "offset": after.index("items") + 5},
        "expected": {"file": after.replace("values", "items")},
    }


def fake_distribution(site, name: str, licence: str, files: dict[str, str]) -> None:
    """An installed distribution as pip leaves it: its files and a dist-info with METADATA and RECORD."""
    for rel, text in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text)
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\nLicense: {licence}\n"
    )
    (info / "RECORD").write_text("".join(f"{rel},,\n" for rel in files))


@pytest.fixture(scope="module")
def recipe_run(tmp_path_factory):
    """Every step of the recipe, in its own work folder, on a small site-packages of real Python files."""
    import json.decoder

    root = tmp_path_factory.mktemp("recipe")
    work, site = root / "work", root / "site-packages"
    fake_distribution(
        site,
        "permissive",
        "MIT",
        {
            "permissive/mod.py": SOURCE * 3,
            "permissive/copy.py": SOURCE * 3,  # an exact duplicate: dropped
            "permissive/decoder.py": open(json.decoder.__file__).read(),
            "permissive/encoder.py": open(json.encoder.__file__).read(),
        },
    )
    fake_distribution(site, "copyleft", "GPL-3.0-or-later", {"copyleft/mod.py": "x = 1\n"})
    (site / "loose.py").write_text("y = 2\n")  # no distribution owns it: licence unknown
    train = root / "nes_train.jsonl.gz"
    with gzip.open(train, "wt") as f:
        for i in range(6):
            f.write(json.dumps(nes_row(i)) + "\n")
    w = ["--work", str(work)]
    recipe(w + ["corpus", "--root", str(site)])
    recipe(w + ["tokenizer", "--vocab-size", "400"])
    tiny = [
        "--steps",
        "2",
        "--save-every",
        "1",
        "--log-every",
        "1",
        "--warmup",
        "1",
        "--threads",
        "1",
    ]
    recipe(w + ["pretrain", "--size", "tiny", "--seq-len", "32", "--batch-tokens", "64", *tiny])
    recipe(
        w
        + [
            "pretrain",
            "--size",
            "tiny",
            "--seq-len",
            "32",
            "--batch-tokens",
            "64",
            *tiny[2:],
            "--steps",
            "3",
            "--resume",
        ]
    )
    recipe(w + ["copy", "--batch-tokens", "512", *tiny])
    recipe(w + ["finetune-data", "--train", str(train), "--synthetic", "4", "--limit", "4"])
    recipe(
        w
        + [
            "finetune",
            "--max-len",
            "1024",
            "--batch-tokens",
            "1024",
            "--init",
            str(work / "copy" / "model"),
            *tiny,
        ]
    )
    recipe(w + ["export", "--out", str(root / "export")])
    return root


def test_corpus_keeps_permissive_code_once(recipe_run):
    summary = json.loads((recipe_run / "work" / "corpus" / "licenses.json").read_text())
    assert summary["kept_by_license"]["MIT"]["files"] == 3
    assert summary["dropped"] == {
        "exact duplicate": 1,
        "copyleft: GPL-3.0-or-later": 1,
        "unknown: UNKNOWN (no distribution record)": 1,
    }
    paths = [
        json.loads(line)["path"] for line in open(recipe_run / "work" / "corpus" / "corpus.jsonl")
    ]
    assert not any("copyleft" in p or "loose" in p for p in paths)


def test_pretraining_resumes_from_its_checkpoint(recipe_run):
    log = (recipe_run / "work" / "pretrain" / "train.log").read_text()
    assert "resumed at step 2" in log
    assert json.loads((recipe_run / "work" / "pretrain" / "summary.json").read_text())["steps"] == 3


def test_the_copy_curriculum_asks_for_the_region_again(recipe_run):
    from models.recipe.train import IGNORE, CopyBatches

    work = recipe_run / "work"
    tokenizer = AutoTokenizer.from_pretrained(work / "tokenizer")
    mark = tokenizer.convert_tokens_to_ids
    for step in (0, 1000):  # short at first, the format's sizes once grown
        inputs, labels, mask = CopyBatches(work / "corpus" / "tokens.npy", tokenizer, 2048, seed=0)(
            step
        )
        assert inputs.shape == labels.shape == mask.shape and len(inputs) > 1
        for ids, wanted, used in zip(inputs.tolist(), labels.tolist(), mask.tolist()):
            ids = ids[: sum(used)]
            start, end = ids.index(mark("<|region|>")), ids.index(mark("<|/region|>"))
            region = [t for t in ids[start + 1 : end] if t != mark("<|cursor|>")]
            assert ids[start + 1 : end].count(mark("<|cursor|>")) == 1
            copied = [t for t in wanted if t != IGNORE]
            assert copied == region + [mark("<|end|>")]
            assert ids[len(ids) - len(copied)] == mark("<|rewrite|>")  # the loss starts after it
    assert json.loads((work / "copy" / "summary.json").read_text())["steps"] == 2


def test_finetuning_examples_come_from_the_pipelines_own_format(recipe_run):
    lines = [
        json.loads(x)
        for x in (recipe_run / "work" / "finetune" / "examples.jsonl").read_text().splitlines()
    ]
    from_train = [x for x in lines if x["source"] == "nes-train-py"]
    assert len(from_train) == 4
    held = [
        json.loads(x)
        for x in gzip.open(recipe_run / "work" / "finetune" / "heldout.jsonl.gz", "rt")
    ]
    assert len(held) == 2  # the train rows not used, for choosing the gate
    assert (
        from_train[0]["completion"].endswith("<|end|>") and "items" in from_train[0]["completion"]
    )
    # The very prompt the runtime would build for this request.
    ctx = build_context(nes_row(0))
    assert FORMAT.render(ctx) in {x["prompt"] for x in from_train}
    assert len(lines) > 6  # synthetic edits joined them


def test_export_reloads_with_the_auto_classes_and_generates(recipe_run):
    export = recipe_run / "export"
    tokenizer = AutoTokenizer.from_pretrained(export)
    model = AutoModelForCausalLM.from_pretrained(export)
    assert next(model.parameters()).dtype == torch.bfloat16
    ids = tokenizer(FORMAT.render(build_context(nes_row(0))), return_tensors="pt").input_ids
    out = model.generate(ids, max_new_tokens=3, do_sample=False)
    assert out.shape[1] > ids.shape[1]
    assert tokenizer.convert_tokens_to_ids("<|end|>") in model.generation_config.eos_token_id


def test_markers_are_single_tokens_and_round_trip():
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = recipe_tokenizer.train(
            [SOURCE] * 20, __import__("pathlib").Path(tmp), vocab_size=300
        )
    assert recipe_tokenizer.MARKERS == list(FORMAT.SPECIAL_TOKENS)
    for marker in recipe_tokenizer.MARKERS + [recipe_tokenizer.EOS, recipe_tokenizer.PAD]:
        assert len(tokenizer(marker, add_special_tokens=False).input_ids) == 1
    prompt = FORMAT.render(build_context(nes_row(0))) + "x = 1<|end|>"
    ids = tokenizer(prompt, add_special_tokens=False).input_ids
    assert tokenizer.decode(ids) == prompt
    # The engine decodes with skip_special_tokens=True: the markers of an answer must survive it.
    answer = "x = 1\n<|cell|>c1\ny = 2\n<|end|>"
    ids = tokenizer(answer + recipe_tokenizer.EOS, add_special_tokens=False).input_ids
    assert tokenizer.decode(ids, skip_special_tokens=True) == answer


# -- the shipped default ---------------------------------------------------------------------------


def test_the_default_ships_and_loads_through_the_engine():
    path = shipped_model_path()
    assert path is not None, "jupyter_cursor/models/default holds no model"
    assert all(f.stat().st_size <= 16 * 2**20 for f in path.iterdir())
    loaded = load_model(
        EngineConfig(model=str(path), device="cpu", quantization="none", dtype="bfloat16")
    )
    assert type(loaded.model).__name__ == "LlamaForCausalLM"
    tokenizer = loaded.tokenizer
    for marker in FORMAT.SPECIAL_TOKENS:
        assert len(tokenizer(marker, add_special_tokens=False).input_ids) == 1
    prompt = FORMAT.render(build_context(nes_row(0)))
    assert (
        tokenizer.decode(
            tokenizer(prompt, add_special_tokens=False).input_ids, skip_special_tokens=True
        )
        == prompt
    )


def test_the_default_generates_in_4bit_through_the_runtime():
    async def generate():
        runtime = create_runtime(
            EngineConfig(model=str(shipped_model_path()), device="cpu", quantization="4bit")
        )
        runtime.start()
        while runtime.status()["state"] == "loading":
            await asyncio.sleep(0.01)
        try:
            prompt = FORMAT.render(build_context(nes_row(0)))
            chunks = [
                c async for c in runtime.generate(GenerationRequest(prompt, max_new_tokens=6))
            ]
            return runtime.status(), chunks[-1]
        finally:
            runtime.close()

    status, final = asyncio.run(generate())
    assert status["state"] == "ready" and status["quantization"] == "4bit"
    assert 0 < final.timings["tokens"] <= 6


def test_the_wheel_carries_the_default_model():
    from pathlib import Path

    from hatchling.builders.wheel import WheelBuilder

    root = Path(__file__).resolve().parents[1]
    files = {f.distribution_path for f in WheelBuilder(str(root)).recurse_included_files()}
    shipped = {f"jupyter_cursor/models/default/{f.name}" for f in shipped_model_path().iterdir()}
    assert {
        "jupyter_cursor/models/default/config.json",
        "jupyter_cursor/models/default/model.safetensors",
    } <= shipped
    assert shipped <= files


def test_finetuning_reads_every_epoch_whole_however_many_batches_it_packs(tmp_path):
    """Examples of mixed lengths pack into a different number of batches in each epoch's order;
    every step has a batch, and each epoch gives every example exactly once."""
    from models.recipe.train import CompletionBatches

    tokenizer = AutoTokenizer.from_pretrained(shipped_model_path())
    path = tmp_path / "examples.jsonl"
    with open(path, "w") as handle:
        for i in range(90):
            handle.write(
                json.dumps({"prompt": "x = 1\n" * (1 + i % 13), "completion": f"y = {i}<|end|>"})
                + "\n"
            )
    batches = CompletionBatches(path, tokenizer, max_len=512, batch_tokens=96, seed=0)
    lengths = [len(batches._epoch(epoch)) for epoch in range(6)]
    assert len(set(lengths)) > 1, lengths  # the case that broke a fixed batches-per-epoch
    step = 0
    for epoch, length in enumerate(lengths):
        packed = sorted(i for batch in batches._epoch(epoch) for i in batch)
        assert packed == list(range(len(batches.examples)))
        for index in range(length):
            assert batches.locate(step) == (epoch, index)
            inputs, _, _ = batches(step)
            assert len(inputs) == len(batches._epoch(epoch)[index])
            step += 1
