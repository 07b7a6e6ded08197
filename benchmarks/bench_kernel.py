"""The live kernel as context (issue 20): how right its completions are, and what it adds to a
keystroke's suggestion.

A real ipykernel behind jupyter_server's own kernel and session managers (no HTTP), the server's
``KernelContext`` and ``NextEditService`` as the server builds them (no completion model: the
kernel's completions and the rules alone). Six notebooks written over the DataFrames that
scikit-learn ships (iris, wine, diabetes, breast cancer, Linnerud, digits: real column names, with
spaces, units and near-twins), in the way analyses are written: new columns derived from old ones,
selections, group-bys, ``.loc``, sorting.

Each notebook is typed top to bottom: before its cell *i*, cells 0..i-1 have run in the kernel;
then every position inside the lines of cell *i* is a request (the cell cut at the cursor, no later
cells, one typing event for the last characters typed), whose truth is the rest of the line. A
completion is right when it is the rest of the line or a correct start of it of at least 3
characters (eval_completion.py's measure). Positions are grouped by what is being typed: a string
in a subscript of a name (a column or key: ``df["pe``), an attribute (after a dot), a name, or
anything else.

Latency: each request is asked twice, of a service with the kernel and of one without (kernel
context off), in alternating order; the kernel's snapshot is cached (it was probed once after the
cells ran). Then a cell that sleeps runs, and requests are asked while it runs: a busy kernel must
give no kernel context, never a late suggestion.

    nice -n 10 .venv/bin/python benchmarks/bench_kernel.py [--json OUT.json]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from eval_completion import right  # noqa: E402
from machine import machine  # noqa: E402

from jupyter_cursor.kernel import complete as kernel_complete  # noqa: E402
from jupyter_cursor.kernel.service import KernelContext  # noqa: E402
from jupyter_cursor.nextedit.service import NextEditService  # noqa: E402

EVENT_CHARS = 3  # the typing event: the last characters typed
BUSY_S = 4.0

NOTEBOOKS: dict[str, list[str]] = {
    "iris": [
        "import pandas as pd\nfrom sklearn.datasets import load_iris\n"
        "iris = load_iris(as_frame=True).frame\niris.head()",
        'iris["petal length (cm)"].describe()',
        'iris["petal_ratio"] = iris["petal length (cm)"] / iris["petal width (cm)"]\n'
        'iris["sepal_ratio"] = iris["sepal length (cm)"] / iris["sepal width (cm)"]',
        'iris.groupby("target")["petal_ratio"].mean()',
        'wide = iris[iris["petal_ratio"] > 3]\nwide["sepal width (cm)"].value_counts()',
        'features = iris[["sepal length (cm)", "sepal width (cm)", "petal_ratio"]]\n'
        "features.corr()",
        'iris.loc[iris["target"] == 2, "sepal_ratio"].max()',
    ],
    "wine": [
        "import pandas as pd\nfrom sklearn.datasets import load_wine\n"
        "wine = load_wine(as_frame=True).frame",
        'wine["alcohol"].round().value_counts()',
        'wine["phenol_share"] = wine["flavanoids"] / wine["total_phenols"]',
        'strong = wine[wine["alcohol"] > 13]\nstrong["color_intensity"].median()',
        'wine.groupby("target")[["magnesium", "proline"]].mean()',
        'wine.sort_values(by="hue")["od280/od315_of_diluted_wines"].head()',
        'wine["proanthocyanins"].quantile(0.9)\nwine["malic_acid"].std()',
        'X = wine.drop(columns=["target"])\ny = wine["target"]\nX["ash"].describe()',
    ],
    "diabetes": [
        "import pandas as pd\nfrom sklearn.datasets import load_diabetes\n"
        "diabetes = load_diabetes(as_frame=True).frame",
        'diabetes["bmi"].rank(pct=True)',
        'diabetes["bmi_bp"] = diabetes["bmi"] * diabetes["bp"]',
        'diabetes[["age", "sex", "bmi"]].describe()',
        'diabetes.loc[diabetes["sex"] > 0, "target"].mean()',
        'serum = diabetes[["s1", "s2", "s3", "s4", "s5", "s6"]]\nserum.corr()',
        'diabetes["target"].corr(diabetes["bmi_bp"])',
    ],
    "breast_cancer": [
        "import pandas as pd\nfrom sklearn.datasets import load_breast_cancer\n"
        "cancer = load_breast_cancer(as_frame=True).frame",
        'cancer["mean radius"].describe()',
        'cancer["radius_ratio"] = cancer["worst radius"] / cancer["mean radius"]',
        'cancer.groupby("target")["mean texture"].mean()',
        'cancer[["mean area", "worst area", "area error"]].corr()',
        'malignant = cancer[cancer["target"] == 0]\nmalignant["worst concavity"].median()',
        'cancer.nlargest(5, "mean perimeter")["worst perimeter"]',
        'cancer["smoothness error"].max()\ncancer["fractal dimension error"].min()',
    ],
    "linnerud": [
        "import pandas as pd\nfrom sklearn.datasets import load_linnerud\n"
        "fit = load_linnerud(as_frame=True).frame",
        'fit["Chins"].mean()',
        'fit["Situps"].corr(fit["Waist"])',
        'fit["bmi_proxy"] = fit["Weight"] / fit["Waist"]',
        'fit[["Jumps", "Pulse"]].describe()',
        'fit.loc[fit["Chins"] > 10, "Situps"].mean()',
    ],
    "digits": [
        "import pandas as pd\nfrom sklearn.datasets import load_digits\n"
        "digits = load_digits(as_frame=True).frame",
        'digits["target"].value_counts()',
        'digits["pixel_3_4"].mean()',
        'centre = digits[["pixel_3_3", "pixel_3_4", "pixel_4_3", "pixel_4_4"]]\ncentre.sum()',
        'digits["ink"] = digits.drop(columns=["target"]).sum(axis=1)',
        'digits.groupby("target")["ink"].mean()',
    ],
}


def kind_of(line_before: str) -> str:
    """What is being typed at the end of ``line_before``."""
    if kernel_complete.SUBSCRIPT.search(line_before):
        return "column or key"
    if re.search(r"[\"']", line_before) and line_before.count('"') % 2 + line_before.count("'") % 2:
        return "other string"
    if re.search(r"\.\w*$", line_before):
        return "attribute"
    if re.search(r"(?<![\w.])[A-Za-z_]\w*$", line_before):
        return "name"
    return "other"


def positions(name: str, cells: list[str], index: int) -> list[dict]:
    """The requests inside the lines of cell ``index`` (after cells 0..index-1 ran)."""
    source = cells[index]
    done = [{"id": f"c{i}", "cell_type": "code", "source": s} for i, s in enumerate(cells[:index])]
    out = []
    start = 0
    for line in source.split("\n"):
        for column in range(1, len(line)):
            offset = start + column
            typed_from = max(start, offset - EVENT_CHARS)
            out.append(
                {
                    "path": f"{name}.ipynb",
                    "cells": done
                    + [{"id": f"c{index}", "cell_type": "code", "source": source[:offset]}],
                    "cursor": {"cell_id": f"c{index}", "offset": offset},
                    "events": [
                        {
                            "cell_id": f"c{index}",
                            "before": source[:typed_from],
                            "after": source[:offset],
                        }
                    ],
                    "language": "python",
                    "truth": line.rstrip()[column:],
                    "kind": kind_of(line[:column]),
                }
            )
        start += len(line) + 1
    return out


def inserted(request: dict, result: dict) -> str:
    """The text a suggestion inserts at the cursor ("" when it is no insertion there)."""
    cursor = request["cursor"]
    before = request["cells"][-1]["source"]
    for edit in result["edits"]:
        if edit["cell_id"] == cursor["cell_id"]:
            after = edit["source"]
            offset = cursor["offset"]
            if after.startswith(before[:offset]) and after.endswith(before[offset:]):
                return after[offset : len(after) - (len(before) - offset)]
    return ""


async def execute(client, code: str) -> None:
    reply = await client.execute_interactive(code, timeout=120, output_hook=lambda msg: None)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"the cell failed: {reply['content'].get('evalue')}\n{code}")


async def run(args) -> dict:
    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
    from jupyter_server.services.sessions.sessionmanager import SessionManager

    root = tempfile.mkdtemp(prefix="bench_kernel_")
    kernels = AsyncMappingKernelManager(root_dir=root)
    sessions = SessionManager(
        kernel_manager=kernels, contents_manager=AsyncLargeFileManager(root_dir=root)
    )
    context = KernelContext(sessions, kernels)
    with_kernel, without = NextEditService(kernel=context), NextEditService()
    by_kind: dict[str, Counter] = {}
    added: dict[str, list[float]] = {}  # by kind: the kernel's time on top of the plain request
    samples: list[dict] = []
    cached_ms, plain_ms, first_ms, busy_ms, busy_kernel_answers = [], [], [], [], 0
    try:
        for name, cells in NOTEBOOKS.items():
            session = await sessions.create_session(
                path=f"{name}.ipynb", kernel_name="python3", type="notebook"
            )
            kernel = kernels.get_kernel(session["kernel"]["id"])
            client = AsyncKernelClient()
            client.load_connection_info({**kernel.get_connection_info(), "key": kernel.session.key})
            client.start_channels()
            await client.wait_for_ready(timeout=120)
            try:
                for index in range(1, len(cells)):
                    await execute(client, cells[index - 1])
                    await asyncio.sleep(0.05)  # the server's kernel state goes idle
                    # The first request after a run waits for the probe (at most 50 ms).
                    reqs = positions(name, cells, index)
                    started = time.perf_counter()
                    await with_kernel.predict(reqs[0])
                    first_ms.append((time.perf_counter() - started) * 1000)
                    for _ in range(100):  # the probe answered: the snapshot is cached
                        watcher = await context.watcher(f"{name}.ipynb")
                        if watcher is not None and not watcher.stale:
                            break
                        await context.snapshot(f"{name}.ipynb", wait_s=0.2)
                    for n, request in enumerate(reqs):
                        order = [(with_kernel, cached_ms), (without, plain_ms)]
                        for service, times in order if n % 2 == 0 else order[::-1]:
                            started = time.perf_counter()
                            result = await service.predict(request)
                            times.append((time.perf_counter() - started) * 1000)
                            if service is with_kernel:
                                shown = inserted(request, result)
                                predictor = result.get("predictor") if shown else None
                        added.setdefault(request["kind"], []).append(cached_ms[-1] - plain_ms[-1])
                        counts = by_kind.setdefault(request["kind"], Counter())
                        counts["positions"] += 1
                        if predictor == "kernel":
                            counts["shown"] += 1
                            counts["right"] += right(shown, request["truth"])
                            samples.append(
                                {
                                    "notebook": name,
                                    "line_before": request["cells"][-1]["source"].split("\n")[-1],
                                    "shown": shown,
                                    "truth": request["truth"],
                                    "right": right(shown, request["truth"]),
                                }
                            )
                # While a cell runs: the same requests of the last cell, none may wait for it.
                running = asyncio.ensure_future(
                    client.execute_interactive(
                        f"import time; time.sleep({BUSY_S})", timeout=60, output_hook=lambda m: None
                    )
                )
                await asyncio.sleep(0.3)
                busy_reqs = positions(name, cells, len(cells) - 1)
                deadline = time.perf_counter() + BUSY_S - 1.0
                for request in busy_reqs:
                    if time.perf_counter() > deadline:
                        break
                    started = time.perf_counter()
                    result = await with_kernel.predict(request)
                    busy_ms.append((time.perf_counter() - started) * 1000)
                    busy_kernel_answers += result.get("predictor") == "kernel"
                await running
            finally:
                client.stop_channels()
                await sessions.delete_session(session["id"])
    finally:
        await context.close()
        await kernels.shutdown_all()
    return {
        "by_kind": {k: dict(v) for k, v in by_kind.items()},
        "added_ms": added,
        "samples": samples,
        "cached_ms": cached_ms,
        "plain_ms": plain_ms,
        "first_ms": first_ms,
        "busy_ms": busy_ms,
        "busy_kernel_answers": busy_kernel_answers,
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write every shown completion here")
    args = parser.parse_args(argv)
    out = asyncio.run(run(args))
    print(
        f"Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC. Command: `nice -n 10 "
        f".venv/bin/python benchmarks/bench_kernel.py`. Machine: {machine()}. "
        f"{len(NOTEBOOKS)} notebooks over scikit-learn's DataFrames, typed top to bottom.\n"
    )
    print(
        "| being typed | positions | kernel shown | right when shown | added ms p50 / p90 / max |"
    )
    print("|---|---|---|---|---|")
    total = Counter()
    for kind in ("column or key", "attribute", "name", "other string", "other"):
        c = out["by_kind"].get(kind, Counter())
        total.update(c)
        rate = f"{c['right'] / c['shown']:.3f}" if c.get("shown") else "—"
        ms = out["added_ms"].get(kind) or [0.0]
        print(
            f"| {kind} | {c.get('positions', 0)} | {c.get('shown', 0)} | {rate} | "
            f"{statistics.median(ms):.2f} / {pct(ms, 0.9):.2f} / {max(ms):.1f} |"
        )
    rate = f"{total['right'] / total['shown']:.3f}" if total["shown"] else "—"
    print(f"| all | {total['positions']} | {total['shown']} | {rate} | |")
    diffs = [a - b for a, b in zip(out["cached_ms"], out["plain_ms"])]
    print("\n| request | p50 ms | p90 ms | max ms | samples |")
    print("|---|---|---|---|---|")
    for label, values in (
        ("no kernel context (kernel_context off)", out["plain_ms"]),
        ("kernel context, snapshot cached", out["cached_ms"]),
        ("added by the kernel (paired difference)", diffs),
        ("first request after a cell ran (probe)", out["first_ms"]),
        (f"kernel busy (a {BUSY_S:.0f} s cell running)", out["busy_ms"]),
    ):
        print(
            f"| {label} | {statistics.median(values):.2f} | {pct(values, 0.9):.2f} | "
            f"{max(values):.2f} | {len(values)} |"
        )
    print(
        f"\nKernel completions shown while the kernel was busy (from the snapshot taken before the "
        f"cell ran; no request is sent to a busy kernel): {out['busy_kernel_answers']}."
    )
    wrong = [s for s in out["samples"] if not s["right"]]
    if wrong:
        print("\nWrong kernel completions (line typed → shown, truth):")
        for s in wrong[:30]:
            print(f"- `{s['line_before']}` → `{s['shown']}` (truth `{s['truth']}`)")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
