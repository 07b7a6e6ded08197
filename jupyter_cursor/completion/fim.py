"""Fill-in-the-middle prompt formats of the code model families, as data.

A FIM model is shown the text before the cursor (prefix) and after it (suffix) between its
sentinel tokens, and generates the middle. Each family has its own sentinels and order; each is
written here as its maintainers document it (the sources are named on each entry):

- PSM (prefix, suffix, middle): Qwen2.5-Coder, StarCoder/StarCoder2, DeepSeek-Coder, CodeLlama;
- SPM (suffix first): Codestral (``[SUFFIX]…[PREFIX]…``, no middle token: the model writes right
  after the prefix) and Seed-Coder (``<[fim-suffix]>…<[fim-prefix]>…<[fim-middle]>``).

``render`` gives the prompt as text, without a BOS token: a local tokenizer adds its own, and so
do the servers of the OpenAI-compatible completions API. ``stop`` holds the strings that end a
middle (the family's end-of-text tokens and its sentinels, which a model that runs past the
middle writes next).

``fim_from_tokenizer`` picks the format by the sentinel tokens a local tokenizer has;
``get_fim`` takes a format's name (or an alias) for a served model, ``fim_for_model`` guesses it
from a model id. Note that a tokenizer's tokens say which format it speaks, not that the model
was trained on it: general Qwen2.5 and Mistral v3 tokenizers carry the FIM tokens too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FimFormat:
    name: str
    # ``{prefix}`` and ``{suffix}`` in the family's order, between its sentinels.
    template: str
    stop: tuple[str, ...]
    # Groups of token spellings, one group per sentinel: the tokenizer speaks this format when
    # it has one spelling of every group (CodeLlama's sentencepiece names its ``▁<PRE>``).
    detect: tuple[tuple[str, ...], ...]
    order: str  # "psm" or "spm", for the record
    aliases: tuple[str, ...] = ()
    # Substrings of a model id (lowercased) that name this family, for ``fim_for_model``.
    model_patterns: tuple[str, ...] = ()

    @property
    def sentinels(self) -> tuple[str, ...]:
        """Every spelling of the family's special strings (sentinels and stops)."""
        spellings = {s for group in self.detect for s in group} | set(self.stop)
        return tuple(sorted(spellings, key=lambda s: (-len(s), s)))

    def render(self, prefix: str, suffix: str) -> str:
        """The prompt. The family's special strings are removed from the user's text first: a
        notebook that mentions ``<|fim_middle|>`` must not end the prompt's prefix there."""
        return self.template.format(prefix=self._clean(prefix), suffix=self._clean(suffix))

    def _clean(self, text: str) -> str:
        for token in self.sentinels:
            if token in text:
                text = text.replace(token, "")
        return text


# fmt: off
_FORMATS = (
    # QwenLM/Qwen2.5-Coder README, "File-Level Code Completion (Fill in the middle)": prompt
    # '<|fim_prefix|>' + prefix + '<|fim_suffix|>' + suffix + '<|fim_middle|>', generation ended
    # by eos_token_id = the fim/repo/file tokens, <|im_end|> and <|endoftext|> (151643-151664).
    FimFormat(
        name="qwen2.5-coder",
        template="<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
        stop=("<|endoftext|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>",
              "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<|im_end|>"),
        detect=(("<|fim_prefix|>",), ("<|fim_suffix|>",), ("<|fim_middle|>",)),
        order="psm",
        aliases=("qwen", "qwen-coder", "qwen3-coder"),
        model_patterns=("qwen2.5-coder", "qwen3-coder", "qwen-coder", "qwen2.5coder"),
    ),
    # ByteDance-Seed/Seed-Coder-8B-Base model card: '<[fim-suffix]>' + suffix + '<[fim-prefix]>'
    # + prefix + '<[fim-middle]>' (SPM, as Zed's Zeta 2 prompts it); EOS <[end▁of▁sentence]>.
    FimFormat(
        name="seed-coder",
        template="<[fim-suffix]>{suffix}<[fim-prefix]>{prefix}<[fim-middle]>",
        stop=("<[end▁of▁sentence]>", "<[fim-suffix]>", "<[fim-prefix]>", "<[fim-middle]>"),
        detect=(("<[fim-suffix]>",), ("<[fim-prefix]>",), ("<[fim-middle]>",)),
        order="spm",
        aliases=("seed", "seedcoder"),
        model_patterns=("seed-coder", "seedcoder"),
    ),
    # deepseek-ai/DeepSeek-Coder README, "Code Insertion": <｜fim▁begin｜>prefix<｜fim▁hole｜>
    # suffix<｜fim▁end｜> (full-width bars, U+2581 blanks); EOS <｜end▁of▁sentence｜>.
    FimFormat(
        name="deepseek-coder",
        template="<｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>",
        stop=("<｜end▁of▁sentence｜>", "<|EOT|>", "<｜fim▁begin｜>", "<｜fim▁hole｜>",
              "<｜fim▁end｜>"),
        detect=(("<｜fim▁begin｜>",), ("<｜fim▁hole｜>",), ("<｜fim▁end｜>",)),
        order="psm",
        aliases=("deepseek",),
        model_patterns=("deepseek-coder", "deepseek_coder"),
    ),
    # bigcode/starcoder2 (and StarCoder, SantaCoder's successors): <fim_prefix>…<fim_suffix>…
    # <fim_middle>; <file_sep> (StarCoder2) and <filename> (StarCoder) begin the next file.
    FimFormat(
        name="starcoder",
        template="<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
        stop=("<|endoftext|>", "<file_sep>", "<filename>", "<fim_prefix>", "<fim_suffix>",
              "<fim_middle>", "<fim_pad>", "<repo_name>"),
        detect=(("<fim_prefix>",), ("<fim_suffix>",), ("<fim_middle>",)),
        order="psm",
        aliases=("starcoder2", "starcoder1", "bigcode"),
        model_patterns=("starcoder",),
    ),
    # mistralai/mistral-common InstructTokenizerV2.encode_fim: [BOS, SUFFIX, *suffix, PREFIX,
    # *prefix]: no middle token, the middle follows the prefix; EOS </s>.
    FimFormat(
        name="codestral",
        template="[SUFFIX]{suffix}[PREFIX]{prefix}",
        stop=("</s>", "[SUFFIX]", "[PREFIX]", "[MIDDLE]"),
        detect=(("[SUFFIX]",), ("[PREFIX]",)),
        order="spm",
        aliases=("mistral",),
        model_patterns=("codestral",),
    ),
    # meta-llama/codellama llama/generation.py infilling_prompt_tokens: "format as
    # '<PRE> {pre} <SUF>{suf} <MID>'" (the prefix encoded with sentencepiece's leading space,
    # the suffix without); the middle ends with <EOT>. The HF vocab spells them ▁<PRE>...
    FimFormat(
        name="codellama",
        template="<PRE> {prefix} <SUF>{suffix} <MID>",
        stop=("<EOT>", "</s>", "<PRE>", "<SUF>", "<MID>"),
        detect=(("<PRE>", "▁<PRE>"), ("<SUF>", "▁<SUF>"), ("<MID>", "▁<MID>")),
        order="psm",
        aliases=("code-llama", "code_llama"),
        model_patterns=("codellama", "code-llama", "code_llama"),
    ),
)
# fmt: on

FIM_FORMATS: dict[str, FimFormat] = {f.name: f for f in _FORMATS}
"""The formats by name, in the order ``fim_from_tokenizer`` tries them."""

_BY_NAME = {alias: f for f in _FORMATS for alias in (f.name, *f.aliases)}


def get_fim(name: str) -> FimFormat:
    """The format named ``name`` (or one of its aliases), case-insensitively; KeyError naming
    the formats otherwise."""
    found = _BY_NAME.get(name.strip().lower())
    if found is None:
        raise KeyError(f"unknown FIM format {name!r}; known: {', '.join(FIM_FORMATS)}")
    return found


def fim_for_model(model: str) -> FimFormat | None:
    """The format a model id names (``Qwen/Qwen2.5-Coder-1.5B`` → qwen2.5-coder), or None."""
    lowered = model.lower()
    for fim in _FORMATS:
        if any(pattern in lowered for pattern in fim.model_patterns):
            return fim
    return None


def _vocabulary(tokenizer) -> set[str]:
    tokens: set[str] = set()
    try:
        tokens.update(tokenizer.get_vocab())
    except Exception:  # a tokenizer without a vocabulary to list: its special tokens still say
        pass
    for attribute in ("additional_special_tokens", "all_special_tokens"):
        tokens.update(getattr(tokenizer, attribute, None) or ())
    added = getattr(tokenizer, "added_tokens_encoder", None)
    if isinstance(added, dict):
        tokens.update(added)
    return tokens


def fim_from_tokenizer(tokenizer) -> FimFormat | None:
    """The format whose sentinel tokens ``tokenizer`` (a transformers tokenizer) has, or None."""
    vocabulary = _vocabulary(tokenizer)
    for fim in _FORMATS:
        if all(any(token in vocabulary for token in group) for group in fim.detect):
            return fim
    return None
