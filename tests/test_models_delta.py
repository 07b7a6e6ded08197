"""A fine-tune shipped as its difference from base weights (jupyter_cursor/models/delta.py): it
rebuilds the fine-tuned weights closely, leaves untouched tensors out, and refuses another base."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from safetensors.torch import save_file  # noqa: E402

from jupyter_cursor.models.delta import (  # noqa: E402
    LEVELS,
    DeltaMismatch,
    apply_delta,
    write_delta,
)


def _base_and_fine(tmp_path):
    torch.manual_seed(0)
    base = torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.LayerNorm(8))
    base_file = tmp_path / "base.safetensors"
    save_file({k: v.contiguous() for k, v in base.state_dict().items()}, str(base_file))
    fine = {k: v.clone() for k, v in base.state_dict().items()}
    fine["0.weight"] += 0.003 * torch.randn_like(fine["0.weight"])
    fine["1.bias"] += 0.001 * torch.randn_like(fine["1.bias"])
    return base, base_file, fine


def test_the_delta_rebuilds_the_fine_tune_within_its_rounding(tmp_path):
    base, base_file, fine = _base_and_fine(tmp_path)
    written = write_delta(fine, base_file, tmp_path / "delta.npz")
    assert written["tensors"] == 2  # "0.bias" and "1.weight" did not move: left out
    with np.load(tmp_path / "delta.npz") as stored:
        assert stored["0.weight"].dtype == np.int8
        assert int(np.abs(stored["0.weight"]).max()) == LEVELS
    moved = {k: float((fine[k] - v).abs().max()) for k, v in base.state_dict().items()}
    apply_delta(base, tmp_path / "delta.npz", base_file)
    for name, tensor in base.state_dict().items():
        error = float((fine[name] - tensor).abs().max())
        # each weight within half a step of the rounded delta (a step: the row's max / LEVELS)
        assert error <= moved[name] / (2 * LEVELS) * 1.001 + 1e-7, name
        if moved[name]:
            assert error < moved[name] / 10  # the move was applied, not skipped


def test_another_base_is_refused_and_left_unpatched(tmp_path):
    base, base_file, fine = _base_and_fine(tmp_path)
    write_delta(fine, base_file, tmp_path / "delta.npz")
    other = tmp_path / "other.safetensors"
    changed = {k: v.contiguous() for k, v in base.state_dict().items()}
    changed["1.weight"] = changed["1.weight"] + 1e-3
    save_file(changed, str(other))
    before = {k: v.clone() for k, v in base.state_dict().items()}
    with pytest.raises(DeltaMismatch, match="SHA-256"):
        apply_delta(base, tmp_path / "delta.npz", other)
    assert all(torch.equal(before[k], v) for k, v in base.state_dict().items())


def test_a_tensor_the_base_lacks_cannot_be_written(tmp_path):
    _, base_file, fine = _base_and_fine(tmp_path)
    fine["2.weight"] = torch.ones(3)
    with pytest.raises(ValueError, match="2.weight"):
        write_delta(fine, base_file, tmp_path / "delta.npz")
