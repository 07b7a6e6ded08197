"""Recipe of the code-search embedding model (``jupyter_cursor/models/code_minilm``): mine
query → code pairs offline, fine-tune all-MiniLM-L6-v2 with in-batch negatives, export as a delta
over the stock weights. Model card: README.md here."""
