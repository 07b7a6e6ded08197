"""Inline completions at the cursor: ghost text a Tab inserts.

- ``fim``: the fill-in-the-middle prompt formats of the code model families (Qwen2.5-Coder,
  StarCoder2, DeepSeek-Coder, CodeLlama, Codestral, Seed-Coder), chosen from a local tokenizer's
  special tokens or named for a served model
- ``prompt``: a notebook as the (prefix, suffix) a FIM model completes between, the cells in the
  percent format (``# %%``), within a token budget
- ``trim``: what of a model's middle is shown (its first block, nothing the suffix already has)
- ``continuation``: the embedded default, with no model: the continuation of an earlier line
  that starts the same way
- ``chat``: a chat provider as the completer: the question at a cursor marker, its answer made
  an insertion (fences and echoes cut)
- ``source``: the ``Completer``, which source completes and asking it

Nothing is imported here: each module is imported where it is used.
"""
