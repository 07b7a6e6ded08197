"""Lazy snippets: failure classes of the merge, each with a minimal hand-written case."""

from jupyter_cursor.apply.lazy import merge_lazy


def merged(original: str, snippet: str) -> str | None:
    result = merge_lazy(original.split("\n"), snippet.split("\n"))
    return None if result.lines is None else "\n".join(result.lines)


def test_new_function_copied_from_its_neighbour_is_inserted_not_replacing_it():
    # The run's context (`check(data)` / `return data`) ends two functions; read from the first,
    # the run rewrote the second into the new one and deleted lines the answer never showed.
    original = """def first():
    data = load()
    check(data)
    return data


@cached
def second():
    data = load()
    validate_schema(data, strict=True)
    check(data)
    return data


def last():
    pass"""
    snippet = """# ... existing code ...
    check(data)
    return data


def piping():
    data = load()
    send_to_pipe(data)
    check(data)
    return data


def last():
# ... existing code ..."""
    assert merged(original, snippet) == original.replace(
        "\n\n\ndef last():",
        """


def piping():
    data = load()
    send_to_pipe(data)
    check(data)
    return data


def last():""",
    )


def test_ellipsis_the_cell_has_elsewhere_is_still_a_marker():
    # The cell quotes "..." in a docstring; the snippet's "..." stands between lines it never
    # borders in the cell, so it elides the docstring rather than replacing it.
    original = '''class Handler:
    def on_start(self):
        ...

    def on_stop(self):
        log("stopping")
        """Example::

            ...
        """
        return 1'''
    snippet = """class Handler:
    # ... existing code ...
    def on_stop(self):
        log("stopped")
        ...
        return 1"""
    assert merged(original, snippet) == original.replace('"stopping"', '"stopped"')


def test_ellipsis_as_a_new_stub_body_is_code():
    original = """def a():
    ...


x = 1"""
    snippet = """def a():
    ...


def b():
    ...


y = 2
x = 1"""
    assert merged(original, snippet) == snippet


def test_ellipsis_beside_its_cell_neighbour_is_code():
    original = """def a():
    ...


x = 1"""
    snippet = """# ... existing code ...
def a():
    ...


x = 2"""
    assert merged(original, snippet) == original.replace("x = 1", "x = 2")


def test_run_ending_in_new_code_and_a_blank_line_deletes_the_lines_before_that_blank():
    # Two imports merged into one: the run shows the merged line, then the blank line that follows
    # it in the cell, then a marker. The second import (not shown, not context) stayed beside it.
    original = (
        "import os\nfrom pkg.util import helper\nfrom other import extra\n\n\ndef main():\n    pass"
    )
    snippet = "# ... existing code ...\nimport os\nfrom pkg.util import helper, extra\n\n\n# ... existing code ..."
    assert merged(original, snippet) == (
        "import os\nfrom pkg.util import helper, extra\n\n\ndef main():\n    pass"
    )


def test_run_ending_on_a_cell_line_before_its_blank_line_deletes_nothing_after_it():
    # The same shape with the run's last line unchanged context: the lines after it are elided,
    # not deleted.
    original = "import os\nimport sys\nfrom other import extra\n\n\ndef main():\n    pass"
    snippet = "# ... existing code ...\nimport os\nimport re\nimport sys\n\n# ... existing code ..."
    assert merged(original, snippet) == (
        "import os\nimport re\nimport sys\nfrom other import extra\n\n\ndef main():\n    pass"
    )


def test_closing_bracket_of_a_rewritten_import_does_not_anchor_on_a_distant_call():
    # The run turns a one-line import into a bracketed one: its `)` closes its own new line, so
    # it is new code, not context matching the `)` that ends a later call (the lines between
    # were replaced).
    original = """import os

import black
from tokenize import TokenError


# a comment
@settings(
    max_examples=1000,
    deadline=None,
)
def test():
    pass"""
    snippet = """# ... existing code ...
import black
from tokenize import (  # the vendored one
    TokenError,
)


# ... existing code ..."""
    assert merged(original, snippet) == original.replace(
        "from tokenize import TokenError",
        "from tokenize import (  # the vendored one\n    TokenError,\n)",
    )


def test_new_function_copied_from_the_context_before_it_keeps_the_cell_code_after_it():
    # The run shows the end of a function, then a new copy of it whose rest the marker elides:
    # the copy's lines equal to the cell's after the context are the cell's own code, not
    # changed lines replacing the function that follows.
    original = """def simple():
    for _ in range(3):
        @define
        class Local:
            x: int
            y: str

        Local(1, "2")


def other():
    for i in range(3):
        C = make_class()
        C(1, "2")"""
    snippet = """# ... existing code ...
        @define
        class Local:
            x: int
            y: str

        Local(1, "2")


def frozen():
    for _ in range(3):
        @frozen
        class Local:
            x: int
            # ... existing code ..."""
    expected = original.replace(
        "\n\ndef other():",
        """

def frozen():
    for _ in range(3):
        @frozen
        class Local:
            x: int
            y: str

        Local(1, "2")


def other():""",
    )
    assert merged(original, snippet) == expected


def test_new_method_between_blank_lines_the_cell_has_adds_no_blank_line():
    # The run shows `raise`, a blank line, a new method and two blank lines before its marker; the
    # cell has three blank lines after `raise`: the method goes between them (a fourth appeared).
    original = "class R:\n    def check(self):\n        raise self.error\n\n\n\nclass A:\n    pass"
    snippet = "# ...\n        raise self.error\n\n    def read(self):\n        return self.content\n\n\n# ..."
    assert merged(original, snippet) == (
        "class R:\n    def check(self):\n        raise self.error\n\n"
        "    def read(self):\n        return self.content\n\n\nclass A:\n    pass"
    )
    # Fewer blank lines in the cell than the run shows around its new code: the method goes
    # after the cell's blank line, with its own blank line before it.
    original = original.replace("\n\n\n\nclass", "\n\nclass")
    assert merged(original, snippet) == (
        "class R:\n    def check(self):\n        raise self.error\n\n"
        "    def read(self):\n        return self.content\n\nclass A:\n    pass"
    )


STOCK = "        raise NotImplementedError()"


def test_new_class_whose_stock_lines_recur_is_inserted_before_its_context():
    # The run's first lines (a class and its docstring) are all new; the only ones the cell has
    # are a stock `raise` that every abstract method repeats, and the class header after the new
    # code. Placed by the stock line, the new class read as an edit of the method before it,
    # whose `def` line went.
    original = f"""class Stream:
    def read(self) -> bytes:
{STOCK}

    async def put(self, value) -> None:
{STOCK}


class Pool:
    def acquire(self) -> None:
{STOCK}"""
    new_class = f"""class Event:
    '''
    An event that tasks wait on.
    '''

    def set(self) -> None:
{STOCK}

    async def wait(self) -> None:
{STOCK}


class Pool:"""
    snippet = f"# ... existing code ...\n\n\n{new_class}\n# ... existing code ..."
    want = original.replace("\n\n\nclass Pool:", f"\n\n\n{new_class}")
    assert merged(original, snippet) == want


def test_run_opening_on_a_line_its_new_code_repeats_keeps_the_line_before_it():
    # The run's first line is the context; its new method repeats that line. Paired with the
    # copy, the run's lines before it read as an edit of the `def` above the context.
    original = f"""class Backend:
    def create_queue(self, size: int) -> Queue:
{STOCK}

    def background(
        self, job
    ) -> None:
{STOCK}"""
    snippet = f"""# ... existing code ...
{STOCK}

    def create_event(self) -> Event:
{STOCK}

    def background(
        self, job
# ... existing code ..."""
    want = original.replace(
        "\n\n    def background(",
        f"""

    def create_event(self) -> Event:
{STOCK}

    def background(""",
    )
    assert merged(original, snippet) == want


def test_reworded_heading_over_a_paragraph_that_kept_its_words_is_placed_by_resemblance():
    # Neither line stands in the cell as written: the heading is reworded, the paragraph kept
    # most of its words. Each line alike and the two close as a whole: that one place. (Every
    # line had to be close on its own: the heading was not, and the run was refused.)
    original = """x = encode(df)


# ## Optional: Ordinal Encoding

# When the distance between the categories is unknown, we can encode them as thresholds.


y = threshold(df)"""
    snippet = """...


# ## Optional: Encoding Ordinal Features

# When the distance between the categories is unknown or undefined, we can encode them as thresholds.


..."""
    want = original.replace(
        "# ## Optional: Ordinal Encoding", "# ## Optional: Encoding Ordinal Features"
    )
    want = want.replace("is unknown,", "is unknown or undefined,")
    assert merged(original, snippet) == want
    # A heading reworded beyond recognition is not that place.
    assert (
        merged(
            original, snippet.replace("## Optional: Encoding Ordinal Features", "Plot the results")
        )
        is None
    )


def test_new_import_of_a_name_replaces_the_import_it_supersedes():
    # `GPTModel` now comes from the package: the run shows the new import alone where the old
    # one stood, after the block's blank line. The old import stayed beside it (imported twice).
    original = """import torch
from thop import profile

from previous_chapters import GPTModel


CONFIG = {"emb_dim": 768}"""
    snippet = """import torch
from thop import profile

# See the package's installation notes
from llms_from_scratch.ch04 import GPTModel


# ... existing code ..."""
    want = original.replace(
        "from previous_chapters import GPTModel",
        "# See the package's installation notes\nfrom llms_from_scratch.ch04 import GPTModel",
    )
    assert merged(original, snippet) == want
    # A new import of another name is an addition: the cell's import stays.
    added = snippet.replace("llms_from_scratch.ch04 import GPTModel", "tqdm import tqdm")
    assert merged(original, added) == original.replace(
        "\nfrom previous_chapters import GPTModel",
        "\n# See the package's installation notes\nfrom tqdm import tqdm\n\n"
        "from previous_chapters import GPTModel",
    )


def test_function_moved_out_of_a_method_to_the_module_keeps_the_class():
    # The run opens on the module's import and goes on with the function the cell has nested in
    # a method: read from the import to that nested copy, it replaced the whole class between.
    original = """from werkzeug import Request, run_simple


class Server:
    def __init__(self, app):
        self.app = app
        self.port = 0
        self.host = "localhost"

    @classmethod
    def echo_server(cls):
        @Request.application
        def echo(request):
            return request.get_data()

        return Server(echo)"""
    snippet = """from werkzeug import Request, run_simple


@Request.application
def echo(request):
    return request.get_data()


# ... existing code ...
    @classmethod
    def echo_server(cls):
        return Server(echo)"""
    want = original.replace(
        "run_simple\n",
        "run_simple\n\n\n@Request.application\ndef echo(request):\n    return request.get_data()\n",
        1,
    ).replace(
        "        @Request.application\n        def echo(request):\n"
        "            return request.get_data()\n\n",
        "",
    )
    assert merged(original, snippet) == want


def test_new_function_ending_in_a_stock_line_deletes_nothing_up_to_its_next_copy():
    # The run: context, then a new function ending in `return None`, a line the cell has three
    # times. Closed at the next one far below, it deleted the forty lines in between, which no
    # line of the answer shows as removed.
    middle = "\n\n\n".join(
        f"def helper_{i}(x):\n    y = x + {i}\n    return y * 2" for i in range(12)
    )
    original = f"""def first(x):
    print(x)
    return None


def netrc_info(host):
    info = netrc.netrc()
    return info.authenticators(host)


{middle}


def last(x):
    print(x)
    return None


def tail(x):
    x.close()
    return None"""
    new = """def ca_bundle():
    if "SSL_CERT_FILE" in os.environ:
        return os.environ["SSL_CERT_FILE"]
    return None"""
    snippet = f"""# ... existing code ...
    info = netrc.netrc()
    return info.authenticators(host)


{new}


# ... existing code ..."""
    want = original.replace(
        "return info.authenticators(host)\n", f"return info.authenticators(host)\n\n\n{new}\n", 1
    )
    assert merged(original, snippet) == want
    # A deletion closed by a line the cell has once still deletes what lies between.
    deleting = "# ... existing code ...\n    return info.authenticators(host)\n\n\ndef last(x):\n# ... existing code ..."
    assert merged(original, deleting) == original.replace(f"\n\n\n{middle}", "")
