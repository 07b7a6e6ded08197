"""Helpers for the index tests: notebooks on disk and a fast deterministic embedder."""

import hashlib
import json
import re
import threading

import nbformat
import numpy as np


def write_notebook(path, sources, with_ids=True):
    """A notebook of code cells (a "# " line starts a markdown cell), nbformat 4.5 or 4.4."""
    cells = [
        nbformat.v4.new_markdown_cell(s) if s.startswith("# ") else nbformat.v4.new_code_cell(s)
        for s in sources
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    if not with_ids:
        nb.nbformat_minor = 4
        for cell in nb.cells:
            del cell["id"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb), encoding="utf-8")
    return nb


class FakeEmbedder:
    """Hashed bag of words: texts that share words are near. Fast, deterministic, thread-safe;
    ``gate`` (an Event) lets a test hold the embedding worker."""

    model_id = "fake-bow/1"
    dimension = 64
    min_similarity = 0.0

    def __init__(self):
        self.calls = 0
        self.embedded = 0
        self.gate = threading.Event()
        self.gate.set()

    def encode(self, texts):
        self.gate.wait(10)
        self.calls += 1
        self.embedded += len(texts)
        out = np.zeros((len(texts), self.dimension), np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1
            out[row, 0] += 1e-3
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def encode_query(self, text):
        return self.encode([text])[0]
