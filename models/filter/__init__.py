"""The next-edit filter and ranker's recipe: ``python -m models.filter`` (README.md: the model card)."""
