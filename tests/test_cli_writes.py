"""`--write` (apply, refactor) replaces a notebook without losing what the file is: its
permissions, its symlink, its hardlinks; and never leaves half a notebook or a temporary file."""

import os
import stat

import nbformat
import pytest
from notebook_support import make_notebook

from jupyter_cursor.cli import main
from jupyter_cursor.cli.notebooks import atomic_write_text, read_notebook, write_cells

SUGGESTION = "```python\n<<<<<<< SEARCH\ntotal = 1\n=======\ntotal = 2\n>>>>>>> REPLACE\n```\n"


def apply_write(path):
    suggestion = path.parent / "s.md"
    suggestion.write_text(SUGGESTION)
    assert main(["apply", str(path), "--suggestion", str(suggestion), "--write"]) == 0


def assert_written(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert [c.source for c in nb.cells] == ["total = 2", "untouched = True"]
    assert [c.id for c in nb.cells] == ["first", "other"]
    assert nb.cells[0].outputs[0]["text"] == "old\n"
    assert nb.cells[1].outputs[0]["data"]["text/plain"] == "42" and nb.cells[1].execution_count == 3
    assert nb.metadata["custom"] == {"keep": True}


def no_temporaries(*folders):
    return all(not p.name.endswith(".tmp") for folder in folders for p in folder.iterdir())


@pytest.mark.parametrize("mode", [0o644, 0o664, 0o600, 0o755])
def test_the_file_keeps_its_mode(tmp_path, mode):
    path = make_notebook(tmp_path / "nb.ipynb")
    os.chmod(path, mode)
    apply_write(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    assert_written(path)
    assert no_temporaries(tmp_path)


def test_a_symlinked_notebook_stays_a_symlink_and_its_target_changes(tmp_path):
    real = make_notebook(tmp_path / "real" / "nb.ipynb")
    os.chmod(real, 0o644)
    (tmp_path / "work").mkdir()
    link = tmp_path / "work" / "nb.ipynb"
    link.symlink_to(os.path.relpath(real, link.parent))
    apply_write(link)
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert_written(real)
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o644
    assert no_temporaries(tmp_path / "real", tmp_path / "work")


def test_a_chain_of_symlinks_is_followed_to_the_file(tmp_path):
    real = make_notebook(tmp_path / "nb.ipynb")
    (tmp_path / "one.ipynb").symlink_to("nb.ipynb")
    (tmp_path / "two.ipynb").symlink_to("one.ipynb")
    apply_write(tmp_path / "two.ipynb")
    assert (tmp_path / "two.ipynb").is_symlink() and (tmp_path / "one.ipynb").is_symlink()
    assert_written(real)


def test_a_hardlinked_notebook_keeps_its_inode_and_both_names_see_the_change(tmp_path):
    path = make_notebook(tmp_path / "nb.ipynb")
    os.chmod(path, 0o664)
    (tmp_path / "other").mkdir()
    twin = tmp_path / "other" / "twin.ipynb"
    os.link(path, twin)
    inode = os.stat(path).st_ino
    apply_write(path)
    assert os.stat(path).st_ino == os.stat(twin).st_ino == inode
    assert os.stat(path).st_nlink == 2
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o664
    assert_written(path)
    assert_written(twin)
    assert no_temporaries(tmp_path, tmp_path / "other")


def test_in_place_writes_truncate_to_the_new_length(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("a long first version\n" * 50)
    os.link(path, tmp_path / "b.txt")
    atomic_write_text(path, "short\n")
    assert path.read_text() == (tmp_path / "b.txt").read_text() == "short\n"


def test_a_new_file_gets_the_umask_default(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write_text(tmp_path / "new.txt", "hello\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.txt").st_mode) == 0o640
    assert (tmp_path / "new.txt").read_text() == "hello\n"


def test_an_ordinary_write_is_an_atomic_replace(tmp_path):
    """A fresh inode, renamed over the old one: a reader holding the old file sees it whole."""
    path = make_notebook(tmp_path / "nb.ipynb")
    before = path.read_text()
    with open(path) as held:
        inode = os.fstat(held.fileno()).st_ino
        notebook = read_notebook(path)
        write_cells(
            path,
            notebook,
            [
                {"id": "first", "cell_type": "code", "source": "total = 2"},
                {"id": "other", "cell_type": "code", "source": "untouched = True"},
            ],
        )
        assert held.read() == before
    assert os.stat(path).st_ino != inode
    assert_written(path)
    assert path.read_text().endswith("}\n")


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = make_notebook(tmp_path / "nb.ipynb")
    before = path.read_bytes()

    def broken(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError):
        atomic_write_text(path, "new content")
    assert path.read_bytes() == before
    assert no_temporaries(tmp_path)
