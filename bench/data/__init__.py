"""Dataset loading (sklearn's California Housing) and its Great Expectations validation."""
