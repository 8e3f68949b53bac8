"""Dataset readers, the synthetic generator and the per-user int8 store."""
