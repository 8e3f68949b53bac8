"""within: within-user models (repetition splits, subject chunks, fits) and the incremental sweep."""
