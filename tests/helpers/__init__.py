"""Helpers shared by several test modules (imported as tests.helpers.<module>, never from a test file)."""
