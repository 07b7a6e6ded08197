"""Fill-in-the-middle completions: the families' prompts, the notebook as prefix and suffix, and
what of a model's middle is shown."""

from __future__ import annotations

import pytest

from jupyter_cursor.completion.chat import CHAT_PROMPT_TOKENS
from jupyter_cursor.completion.fim import (
    FIM_FORMATS,
    fim_for_model,
    fim_from_tokenizer,
    get_fim,
)
from jupyter_cursor.completion.prompt import MAX_CHARS_PER_TOKEN, completion_prompt, fit_budget
from jupyter_cursor.completion.source import FIM_PROMPT_TOKENS
from jupyter_cursor.completion.trim import trim_completion

PREFIX = "def f(x):\n    "
SUFFIX = "\n    return y\n"

# The prompt of each family on PREFIX and SUFFIX, written out by hand from its documentation.
PROMPTS = {
    "qwen2.5-coder": "<|fim_prefix|>def f(x):\n    <|fim_suffix|>\n    return y\n<|fim_middle|>",
    "starcoder": "<fim_prefix>def f(x):\n    <fim_suffix>\n    return y\n<fim_middle>",
    "deepseek-coder": "<｜fim▁begin｜>def f(x):\n    <｜fim▁hole｜>\n    return y\n<｜fim▁end｜>",
    "codellama": "<PRE> def f(x):\n     <SUF>\n    return y\n <MID>",
    "codestral": "[SUFFIX]\n    return y\n[PREFIX]def f(x):\n    ",
    "seed-coder": "<[fim-suffix]>\n    return y\n<[fim-prefix]>def f(x):\n    <[fim-middle]>",
}

# The special tokens each family's tokenizer holds (CodeLlama's as its sentencepiece spells them).
# fmt: off
TOKENS = {
    "qwen2.5-coder": ["<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
                      "<|repo_name|>", "<|file_sep|>"],
    "starcoder": ["<fim_prefix>", "<fim_middle>", "<fim_suffix>", "<fim_pad>", "<file_sep>",
                  "<repo_name>"],
    "deepseek-coder": ["<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"],
    "codellama": ["▁<PRE>", "▁<SUF>", "▁<MID>", "▁<EOT>"],
    "codestral": ["[PREFIX]", "[SUFFIX]", "[MIDDLE]"],
    "seed-coder": ["<[fim-suffix]>", "<[fim-prefix]>", "<[fim-middle]>"],
}
# fmt: on


def test_every_family_has_a_literal_prompt():
    assert set(PROMPTS) == set(FIM_FORMATS) == set(TOKENS)


@pytest.mark.parametrize("name", sorted(PROMPTS))
def test_render_is_the_familys_prompt(name):
    fim = get_fim(name)
    assert fim.render(PREFIX, SUFFIX) == PROMPTS[name]
    assert fim.stop and all(isinstance(s, str) and s for s in fim.stop)


def test_stops_hold_the_families_end_tokens():
    assert {"<|endoftext|>", "<|fim_pad|>", "<|file_sep|>", "<|repo_name|>"} <= set(
        get_fim("qwen2.5-coder").stop
    )
    assert {"<|endoftext|>", "<file_sep>"} <= set(get_fim("starcoder").stop)
    assert "<｜end▁of▁sentence｜>" in get_fim("deepseek-coder").stop
    assert "<EOT>" in get_fim("codellama").stop
    assert "<[end▁of▁sentence]>" in get_fim("seed-coder").stop


def test_render_drops_the_familys_tokens_from_the_users_text():
    qwen = get_fim("qwen2.5-coder")
    assert qwen.render("a<|fim_middle|>b", "<|endoftext|>c") == (
        "<|fim_prefix|>ab<|fim_suffix|>c<|fim_middle|>"
    )


def test_names_aliases_and_model_ids():
    assert get_fim("Qwen").name == "qwen2.5-coder"
    assert get_fim("starcoder2").name == "starcoder"
    assert get_fim(" CodeLlama ").name == "codellama"
    with pytest.raises(KeyError, match="qwen2.5-coder"):
        get_fim("gpt-4o")
    assert fim_for_model("Qwen/Qwen2.5-Coder-1.5B").name == "qwen2.5-coder"
    assert fim_for_model("qwen2.5-coder:1.5b-base").name == "qwen2.5-coder"
    assert fim_for_model("bigcode/starcoder2-3b").name == "starcoder"
    assert fim_for_model("deepseek-ai/deepseek-coder-1.3b-base").name == "deepseek-coder"
    assert fim_for_model("codellama/CodeLlama-7b-hf").name == "codellama"
    assert fim_for_model("codestral-latest").name == "codestral"
    assert fim_for_model("ByteDance-Seed/Seed-Coder-8B-Base").name == "seed-coder"
    assert fim_for_model("Qwen/Qwen2.5-7B-Instruct") is None
    assert fim_for_model("gpt-4o") is None


@pytest.fixture(scope="module")
def tokenizer_factory():
    from jupyter_cursor.engine.testing import build_tokenizer

    return build_tokenizer


@pytest.mark.parametrize("name", sorted(TOKENS))
def test_the_tokenizer_picks_its_family(name, tokenizer_factory):
    tokenizer = tokenizer_factory()
    assert fim_from_tokenizer(tokenizer) is None  # <|endoftext|> alone says nothing
    tokenizer.add_special_tokens({"additional_special_tokens": TOKENS[name]})
    fim = fim_from_tokenizer(tokenizer)
    assert fim is not None and fim.name == name
    if name != "codellama":  # CodeLlama's text form is read by its own tokenizer's rules
        # Each sentinel of the prompt is one token, and the text around them is intact.
        ids = tokenizer(fim.render(PREFIX, SUFFIX))["input_ids"]
        for group in fim.detect:
            assert tokenizer.convert_tokens_to_ids(group[0]) in ids
        decoded = tokenizer.decode(ids)
        assert decoded == PROMPTS[name]


# -- the notebook as prefix and suffix ------------------------------------------------------------

CELLS = [
    {"id": "a", "cell_type": "code", "source": "import numpy as np"},
    {"id": "b", "cell_type": "markdown", "source": "# Data\nLoad it."},
    {"id": "c", "cell_type": "code", "source": "x = np.arange(3)\nprint(x)\n"},
]


def test_a_notebook_as_one_percent_format_file():
    prefix, suffix = completion_prompt(CELLS, "c", len("x = np."))
    assert prefix == (
        "# %%\nimport numpy as np\n\n# %% [markdown]\n# # Data\n# Load it.\n\n# %%\nx = np."
    )
    assert suffix == "arange(3)\nprint(x)\n\n"
    prefix, suffix = completion_prompt(CELLS, "a", len("import numpy"))
    assert prefix == "# %%\nimport numpy"
    assert suffix == (
        " as np\n\n# %% [markdown]\n# # Data\n# Load it.\n\n# %%\nx = np.arange(3)\nprint(x)\n\n"
    )


def test_other_kernel_languages():
    prefix, suffix = completion_prompt(CELLS, "c", len("x = np."), language="javascript")
    assert prefix == (
        "// %%\nimport numpy as np\n\n// %% [markdown]\n// # Data\n// Load it.\n\n// %%\nx = np."
    )
    # A language whose comment is unknown: no markers, markdown left out.
    prefix, suffix = completion_prompt(CELLS, "c", len("x = np."), language="brainfuck")
    assert prefix == "import numpy as np\n\nx = np."
    assert suffix == "arange(3)\nprint(x)\n\n"


def test_a_one_cell_notebook_is_its_text():
    cells = [{"id": "a", "cell_type": "code", "source": "abc\ndef"}]
    assert completion_prompt(cells, "a", 5) == ("abc\nd", "ef")
    assert completion_prompt(cells, "a", 99) == ("abc\ndef", "")
    with pytest.raises(KeyError):
        completion_prompt(cells, "zz", 0)


LINES = "".join(f"l{i}\n" for i in range(10))  # three characters a line


def test_budget_keeps_the_lines_nearest_the_cursor():
    at = LINES.index("l5") + 1  # l|5
    cells = [{"id": "a", "cell_type": "code", "source": LINES}]
    # Counted in characters: the cursor's line (4) and 8 more, the suffix's share too small for
    # a line (2), so the prefix's nearest lines take it all.
    assert completion_prompt(cells, "a", at, count_tokens=len, budget_tokens=12) == (
        "l2\nl3\nl4\nl",
        "5\n",
    )
    # 20: the suffix's share holds one line, the prefix takes four, the rest cannot hold another.
    assert completion_prompt(cells, "a", at, count_tokens=len, budget_tokens=20) == (
        "l1\nl2\nl3\nl4\nl",
        "5\nl6\n",
    )
    # The cursor's line alone is the budget: kept whole; over it, cut around the cursor.
    assert fit_budget(LINES[:at], LINES[at:], 3, len) == ("l", "5\n")
    assert fit_budget(LINES[:at], LINES[at:], 2, len) == ("l", "5")


def test_a_cursor_line_over_the_whole_budget_is_cut_around_the_cursor():
    """A data literal of megabytes pasted in a cell: the model gets the budget's worth of it
    nearest the cursor, not the megabytes (and their counting stays bounded)."""
    before, after = "data = '" + "A" * 1_500_000, "B" * 1_500_000 + "'\nprint(data)\n"
    cells = [
        {"id": "a", "cell_type": "code", "source": "import json\n"},
        {"id": "c", "cell_type": "code", "source": before + after},
    ]
    counted = []

    def count(text):
        counted.append(len(text))
        return len(text) // 3

    prefix, suffix = completion_prompt(cells, "c", len(before), count_tokens=count)
    assert count(prefix) + count(suffix) <= 2048
    assert prefix and set(prefix) == {"A"} and suffix and set(suffix) == {"B"}
    assert count(suffix) <= 2048 // 4 and count(prefix) >= 2048 // 2
    assert max(counted) <= 2048 * MAX_CHARS_PER_TOKEN
    # The same by the default estimate, for the chat source's budget too.
    for budget in (FIM_PROMPT_TOKENS, CHAT_PROMPT_TOKENS):
        prefix, suffix = completion_prompt(cells, "c", len(before), budget_tokens=budget)
        assert len(prefix) + len(suffix) <= 3 * budget + 3


def test_budget_the_prefix_leaves_goes_to_the_suffix():
    at = LINES.index("l1") + 1
    prefix, suffix = fit_budget(LINES[:at], LINES[at:], 20, len)
    assert (prefix, suffix) == ("l0\nl", "1\nl2\nl3\nl4\nl5\n")


def test_budget_on_a_notebook_cuts_at_line_boundaries():
    cells = [
        {"id": "a", "cell_type": "code", "source": "import os\nimport sys\n"},
        {"id": "b", "cell_type": "code", "source": "path = os.getcwd()\nprint(pa"},
        {"id": "c", "cell_type": "code", "source": "print(sys.argv)\nprint(path)\n"},
    ]
    full = completion_prompt(cells, "b", len(cells[1]["source"]), count_tokens=len)
    prefix, suffix = completion_prompt(
        cells, "b", len(cells[1]["source"]), count_tokens=len, budget_tokens=40
    )
    assert full[0].endswith(prefix) and full[1].startswith(suffix)
    assert len(prefix) + len(suffix) <= 40
    assert prefix.endswith("print(pa") and "\n" in prefix
    cut = full[0][: len(full[0]) - len(prefix)]
    assert cut.endswith("\n")  # the prefix starts at a line's start
    assert suffix.endswith("\n")  # and the suffix ends at a line's end


# -- what of the middle is shown ------------------------------------------------------------------


def test_trim_stops_at_the_end_of_the_block():
    text = "nge(10):\n    print(i)\n\nprint('done')\n"
    assert trim_completion(text, "for i in ra", "\n") == "nge(10):\n    print(i)"
    # Blank lines inside the block stay; the blank line before the next statement ends it.
    text = "\n    a = 1\n\n    b = 2\n    return a + b\n\nprint(f(1))"
    assert trim_completion(text, "def f(x):", "\n") == "\n    a = 1\n\n    b = 2\n    return a + b"


def test_trim_stops_at_a_dedent():
    text = "y = x + 1\n    return y\ndef g():\n    pass"
    assert trim_completion(text, "def f(x):\n    ", "\n") == "y = x + 1\n    return y"
    # The cursor at the start of an empty line: the completion's first line sets the block.
    text = "    print(i)\nprint('done')"
    assert trim_completion(text, "for i in x:\n", "") == "    print(i)"


def test_trim_stops_where_the_text_rejoins_the_suffix():
    prefix, suffix = "def f(x):\n    y = x\n    ", "\n    return y\n"
    assert trim_completion("z = y * 2\n    return y\n", prefix, suffix) == "z = y * 2"
    # A tail that is the suffix's head, across a line break, even cut mid-line.
    assert trim_completion("z = y * 2\n    return", prefix, suffix) == "z = y * 2"


def test_trim_within_a_line():
    # An auto-closed bracket: the model's closing one duplicates it...
    assert trim_completion("x)", "print(", ")\n") == "x"
    # ...unless the line needs both.
    assert trim_completion("x)", "print(f(", ")\n") == "x)"
    assert trim_completion("x):", "if f(", "):\n") == "x"
    # Inside a line, one line only.
    assert trim_completion("a, b\nprint(c", "print(", ")\n") == "a, b"


def test_trim_shows_nothing_that_repeats_what_follows():
    prefix, suffix = "df = pd.read_csv(", "'data.csv')\ndf.head()\n"
    assert trim_completion("'data.csv')", prefix, suffix) == ""
    assert trim_completion("'data.csv')\nprint(df)", prefix, suffix) == ""
    assert trim_completion("y = ", "x = 1\n", "y = 2\n") == ""
    # The model's first line is the suffix's next line: nothing new.
    assert trim_completion("\n    return y", "def f(x):", "\n    return y\n") == ""


def test_trim_whitespace():
    assert trim_completion("  \n\n", "x = ", "\n") == ""
    assert trim_completion("", "x = ", "\n") == ""
    assert trim_completion("x = 1\n\n   \n", "", "") == "x = 1"
    assert trim_completion("1\r\n", "x = ", "\n") == "1"
