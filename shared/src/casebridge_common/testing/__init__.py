"""Test support: a pytest plugin that connects to the real local servers, plus token helpers."""
