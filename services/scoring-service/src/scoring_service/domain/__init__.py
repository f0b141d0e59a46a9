"""Scoring domain: survey schedules, instruments and scores. No I/O."""
