"""Text helpers every stage shares: folding, the index terms of a text, language, question cleaning,
citation markers and offline translation."""
