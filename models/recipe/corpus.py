"""The pretraining corpus: Python source and notebooks found on this machine, offline.

Sources are the project's virtual environment and the system Python's library. Each file is
attributed to the distribution that installed it (its dist-info RECORD) and kept only when that
distribution's licence is permissive (MIT, BSD, Apache-2.0, ISC, PSF, ...); the standard library is
PSF-2.0. Copyleft (GPL, LGPL, AGPL, MPL, EPL) and unknown licences are left out, so the weights we
ship under BSD-3-Clause learn from permissively licensed code only. Exact duplicates (after
normalising whitespace) are dropped, and so are generated-looking files (very long lines, huge files).

Output: ``corpus.jsonl`` ({"path", "source", "license", "text"} per file) and ``licenses.json``
(files and characters per licence, kept and dropped) in the output folder.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import sysconfig
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

PERMISSIVE = re.compile(
    r"\b(MIT|BSD|0BSD|Apache|ISC|PSF|Python Software Foundation|Unlicense|Zlib|"
    r"CNRI-Python|HPND)\b",
    re.I,
)
COPYLEFT = re.compile(r"GPL|General Public|MPL|Mozilla|EPL|Eclipse|copyleft", re.I)
MAX_CHARS = 120_000
MAX_LINE = 400


def default_roots() -> list[Path]:
    """The venv's site-packages and the system Python's library (stdlib and its site-packages)."""
    base = (
        Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    )
    roots = [Path(sysconfig.get_paths()["purelib"]), base, base / "site-packages"]
    return list(dict.fromkeys(r.resolve() for r in roots if r.is_dir()))


def classify(license_texts: Iterable[str]) -> str:
    """'permissive', 'copyleft' or 'unknown' for a distribution's licence fields."""
    joined = " | ".join(t for t in license_texts if t)
    if COPYLEFT.search(joined):
        return "copyleft"
    return "permissive" if PERMISSIVE.search(joined) else "unknown"


def _licence_fields(metadata) -> tuple[str, list[str]]:
    expression = metadata.get("License-Expression") or ""
    free_text = (metadata.get("License") or "").strip().splitlines()[:1]
    classifiers = [
        c.split("::")[-1].strip()
        for c in metadata.get_all("Classifier") or []
        if c.startswith("License ::")
    ]
    name = expression or (
        classifiers[0] if classifiers else (free_text[0] if free_text else "UNKNOWN")
    )
    return name[:60], [expression, *free_text, *classifiers]


def file_licences(root: Path) -> dict[Path, tuple[str, str]]:
    """{file: (licence name, class)} for every file a distribution under ``root`` installed."""
    import importlib.metadata as md

    owners: dict[Path, tuple[str, str]] = {}
    for dist in md.distributions(path=[str(root)]):
        name, fields = _licence_fields(dist.metadata)
        verdict = classify(fields)
        for f in dist.files or []:
            owners[(root / f).resolve()] = (name, verdict)
    return owners


def notebook_text(raw: str) -> str | None:
    """A notebook's code and markdown cells as a percent-format script (outputs dropped)."""
    try:
        nb = json.loads(raw)
    except json.JSONDecodeError:
        return None
    cells = nb.get("cells") or [c for ws in nb.get("worksheets", []) for c in ws.get("cells", [])]
    parts = []
    for cell in cells:
        source = cell.get("source") or cell.get("input") or ""
        source = "".join(source) if isinstance(source, list) else source
        if cell.get("cell_type") == "code":
            parts.append("# %%\n" + source)
        elif cell.get("cell_type") == "markdown":
            parts.append(
                "# %% [markdown]\n" + "\n".join("# " + line for line in source.splitlines())
            )
    return "\n\n".join(parts) or None


def looks_generated(text: str) -> bool:
    lines = text.splitlines()
    return not lines or max(map(len, lines)) > MAX_LINE or len(text) / len(lines) > 100


def iter_files(root: Path) -> Iterator[Path]:
    """Python files and notebooks under ``root``; a site-packages inside it is a root of its own."""
    for pattern in ("*.py", "*.ipynb"):
        for path in root.rglob(pattern):
            parts = path.relative_to(root).parts
            if "__pycache__" not in parts and "site-packages" not in parts and path.is_file():
                yield path


def build(out_dir: Path, roots: list[Path] | None = None, max_files: int | None = None) -> dict:
    """Write corpus.jsonl and licenses.json into ``out_dir``; return the licence summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    roots = roots or default_roots()
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    seen: set[str] = set()
    kept, dropped = Counter(), Counter()
    kept_chars: Counter = Counter()
    n = 0
    with open(out_dir / "corpus.jsonl.tmp", "w") as out:
        for root in roots:
            owners = file_licences(root)
            for path in sorted(iter_files(root)):
                resolved = path.resolve()
                if resolved in owners:
                    licence, verdict = owners[resolved]
                elif resolved.is_relative_to(stdlib) and "site-packages" not in resolved.parts:
                    licence, verdict = "PSF-2.0 (Python standard library)", "permissive"
                else:
                    licence, verdict = "UNKNOWN (no distribution record)", "unknown"
                if verdict != "permissive":
                    dropped[f"{verdict}: {licence}"] += 1
                    continue
                try:
                    raw = path.read_text(encoding="utf-8")
                except (UnicodeDecodeError, OSError):
                    dropped["not utf-8 / unreadable"] += 1
                    continue
                text = notebook_text(raw) if path.suffix == ".ipynb" else raw
                if not text or not text.strip() or len(text) > MAX_CHARS or looks_generated(text):
                    dropped["empty, huge or generated-looking"] += 1
                    continue
                key = hashlib.sha1(re.sub(r"\s+", " ", text).strip().encode()).hexdigest()
                if key in seen:
                    dropped["exact duplicate"] += 1
                    continue
                seen.add(key)
                out.write(
                    json.dumps(
                        {"path": str(path), "source": str(root), "license": licence, "text": text}
                    )
                    + "\n"
                )
                kept[licence] += 1
                kept_chars[licence] += len(text)
                n += 1
                if max_files and n >= max_files:
                    break
            if max_files and n >= max_files:
                break
    (out_dir / "corpus.jsonl.tmp").replace(out_dir / "corpus.jsonl")
    summary = {
        "roots": [str(r) for r in roots],
        "files": n,
        "chars": sum(kept_chars.values()),
        "kept_by_license": {k: {"files": v, "chars": kept_chars[k]} for k, v in kept.most_common()},
        "dropped": dict(dropped.most_common()),
    }
    (out_dir / "licenses.json").write_text(json.dumps(summary, indent=1))
    return summary


def iter_texts(corpus: Path) -> Iterator[str]:
    with open(corpus) as f:
        for line in f:
            yield json.loads(line)["text"]
