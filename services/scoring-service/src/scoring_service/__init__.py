"""scoring-service: Reintegration Sustainability Survey scoring, assessments and programme indicators."""
