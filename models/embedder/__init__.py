"""Recipe of the code-search embedding model (``jupyter_cursor/models/code_minilm``): mine
query → code pairs offline, fine-tune all-MiniLM-L6-v2 with in-batch negatives, export fp16.
Model card: README.md here."""
