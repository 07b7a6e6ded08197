"""A notebook for the tests of writes (apply, refactor): what a write must keep is in it."""

import nbformat


def make_notebook(path):
    """Write, at ``path`` (its folder made), a notebook of two code cells with ids, outputs and an
    execution count ("total = 1" with a stream output, "untouched = True" with a result) and
    notebook metadata of its own; returns ``path``."""
    nb = nbformat.v4.new_notebook(metadata={"custom": {"keep": True}})
    first = nbformat.v4.new_code_cell("total = 1", id="first")
    first.outputs = [nbformat.v4.new_output("stream", name="stdout", text="old\n")]
    other = nbformat.v4.new_code_cell("untouched = True", id="other")
    other.outputs = [
        nbformat.v4.new_output("execute_result", data={"text/plain": "42"}, execution_count=3)
    ]
    other.execution_count = 3
    nb.cells = [first, other]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
