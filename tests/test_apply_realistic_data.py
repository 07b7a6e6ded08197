"""benchmarks/apply_realistic.py: the realistic apply cases are the same on every run, and each one
asks for something (its expected notebook differs from the one it starts from) unless its right
outcome is a refusal. Nothing here runs the apply engine."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "apply_realistic.py"


@pytest.fixture(scope="module")
def realistic():
    spec = importlib.util.spec_from_file_location("apply_realistic", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not (module.DATA / "apply_dev.jsonl.gz").exists():
        pytest.skip(f"no apply data in {module.DATA}")
    return module


@pytest.fixture(scope="module")
def cases(realistic):
    return realistic.generate("dev")


def test_generator_is_deterministic(realistic, cases, tmp_path):
    again = realistic.generate("dev")
    assert again == cases
    realistic.write(cases, tmp_path / "a.jsonl.gz")
    realistic.write(again, tmp_path / "b.jsonl.gz")
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()


def test_every_class_has_edits_and_refusals(realistic, cases):
    assert len({c["id"] for c in cases}) == len(cases)
    for cls in realistic.CLASSES:
        mine = [c for c in cases if c["class"] == cls]
        assert len(mine) >= 25, cls
        assert any(c["refuse"] for c in mine), cls
    # A class whose every case has a refused part still has cases where a good part is applied.
    assert any(c["expected"] != c["cells"] for c in cases if c["class"] == "not_an_edit")


def test_expected_differs_from_the_input_unless_refused(realistic, cases):
    for c in cases:
        assert set(c) >= {"id", "class", "cells", "suggestion", "expected", "refuse", "strict"}
        if not c["refuse"]:
            assert not realistic.same(c["cells"], c["expected"]), c["id"]
        assert c["strict"] == (c["class"] == "whole_file_newline"), c["id"]
