"""inferwire."""
