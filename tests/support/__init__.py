"""Test helpers shared by the test modules: fake servers and the like."""
