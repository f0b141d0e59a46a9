from pathlib import Path

from casebridge_common.testing.plugin import assert_models_match_migrations


def test_models_match_the_migrations(service_dir: Path, test_db_url: str) -> None:
    assert_models_match_migrations(service_dir, test_db_url)
