"""Which files of the root are indexed, and reading them safely.

Skipped: hidden files and folders, what a .gitignore excludes (nested .gitignore files apply to
their folder), virtualenvs and other generated trees, binary files, files over the size limit, and
anything whose real location is outside the root (symlinks are never followed out of it; symlinked
folders are not entered at all, which also rules out cycles).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pathspec

# Trees that are generated or vendored, never the user's work.
SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "site-packages", "venv", "env"})
# Notebooks carry outputs (images) that are never indexed, so they get a larger budget.
DEFAULT_MAX_FILE_BYTES = 1_000_000
DEFAULT_MAX_NOTEBOOK_BYTES = 50_000_000
_BINARY_SNIFF = 8192


class Skip(Exception):
    """A file that is not indexed, with the reason shown in status."""


class WorkspaceFiles:
    def __init__(
        self,
        root: str | Path,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        max_notebook_bytes: int = DEFAULT_MAX_NOTEBOOK_BYTES,
    ):
        self.root = Path(root).resolve()
        self.max_file_bytes = max_file_bytes
        self.max_notebook_bytes = max_notebook_bytes

    # -- paths ------------------------------------------------------------------------------------

    def api_path(self, path: str | Path) -> str:
        """Normalise an API path ("/a/b.ipynb", "a\\b.ipynb") or an absolute path inside the root to
        "a/b.ipynb"; raise Skip for anything that leaves the root."""
        raw = str(path)
        candidate = Path(raw)
        if candidate.is_absolute() and _is_within(candidate, self.root):
            raw = candidate.relative_to(self.root).as_posix()
        parts = [p for p in raw.replace("\\", "/").split("/") if p not in ("", ".")]
        if any(p == ".." for p in parts):
            raise Skip("path leaves the root")
        return "/".join(parts)

    def os_path(self, api_path: str) -> Path:
        return self.root.joinpath(*api_path.split("/")) if api_path else self.root

    def _ignore_specs(self, api_path: str) -> list[tuple[str, pathspec.PathSpec]]:
        """The .gitignore specs of each folder from the root down to ``api_path``'s folder."""
        specs = []
        parts = api_path.split("/")[:-1]
        for depth in range(len(parts) + 1):
            folder = "/".join(parts[:depth])
            spec = self._read_gitignore(self.os_path(folder))
            if spec is not None:
                specs.append((folder, spec))
        return specs

    @staticmethod
    def _read_gitignore(folder: Path) -> pathspec.PathSpec | None:
        try:
            lines = (folder / ".gitignore").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        return pathspec.GitIgnoreSpec.from_lines(lines.splitlines())

    @staticmethod
    def _ignored(api_path: str, is_dir: bool, specs) -> bool:
        for folder, spec in specs:
            relative = api_path[len(folder) + 1 :] if folder else api_path
            if spec.match_file(relative + ("/" if is_dir else "")):
                return True
        return False

    # -- the walk ---------------------------------------------------------------------------------

    def walk(self, folder: str = "") -> Iterator[str]:
        """API paths of the candidate files under ``folder`` ("" for the root), in a stable order."""
        # The specs of the folders above: _walk_dir adds the folder's own.
        specs = (
            [(f, s) for f, s in self._ignore_specs(folder + "/x") if f != folder] if folder else []
        )
        yield from self._walk_dir(folder, specs)

    def _walk_dir(self, folder: str, specs) -> Iterator[str]:
        directory = self.os_path(folder)
        spec = self._read_gitignore(directory)
        if spec is not None:
            specs = specs + [(folder, spec)]
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            api_path = f"{folder}/{entry.name}" if folder else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name in SKIPPED_DIRS or (Path(entry.path) / "pyvenv.cfg").exists():
                        continue
                    if not self._ignored(api_path, True, specs):
                        yield from self._walk_dir(api_path, specs)
                elif entry.is_file(follow_symlinks=True) and not self._ignored(
                    api_path, False, specs
                ):
                    yield api_path
            except OSError:
                continue

    def check(self, api_path: str) -> None:
        """Raise Skip when the file at ``api_path`` is not to be indexed (used on saves, where
        the walk's pruning did not run)."""
        parts = api_path.split("/")
        if not api_path or any(p.startswith(".") for p in parts):
            raise Skip("hidden")
        if any(p in SKIPPED_DIRS for p in parts[:-1]):
            raise Skip("generated folder")
        specs = self._ignore_specs(api_path)
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            # A folder's own .gitignore speaks of its contents, not of the folder.
            above = [(f, s) for f, s in specs if len(f) < len(folder)]
            if self._ignored(folder, True, above):
                raise Skip("excluded by .gitignore")
        if self._ignored(api_path, False, specs):
            raise Skip("excluded by .gitignore")

    def read(self, api_path: str) -> tuple[str, tuple[int, int]]:
        """(decoded text, (size, mtime_ns)) of a file; raise Skip for what is not indexed and
        FileNotFoundError when it is gone."""
        os_path = self.os_path(api_path)
        real = os_path.resolve()
        if not _is_within(real, self.root):
            raise Skip("symlink out of the root")
        stat = os_path.stat()
        limit = (
            self.max_notebook_bytes if api_path.lower().endswith(".ipynb") else self.max_file_bytes
        )
        if stat.st_size > limit:
            raise Skip(f"over the size limit ({stat.st_size} > {limit} bytes)")
        with open(real, "rb") as handle:
            data = handle.read(limit + 1)
        if b"\0" in data[:_BINARY_SNIFF]:
            raise Skip("binary")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise Skip("binary or not UTF-8") from None
        return text, (stat.st_size, stat.st_mtime_ns)

    def stat(self, api_path: str) -> tuple[int, int] | None:
        try:
            stat = self.os_path(api_path).stat()
        except OSError:
            return None
        return stat.st_size, stat.st_mtime_ns


def _is_within(path: Path, root: Path) -> bool:
    try:
        PurePosixPath(path.as_posix()).relative_to(root.as_posix())
        return True
    except ValueError:
        return False
