"""Error codes are a public contract: every code raised anywhere is listed in the README's catalogue."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CODE = re.compile(r'^\s+(?:status, )?code(?:, title)? = (?:\d+, )?"([a-z0-9-]+)"', re.MULTILINE)


def test_every_error_code_in_the_source_is_in_the_readme_catalogue() -> None:
    sources = [*ROOT.glob("shared/src/**/*.py"), *ROOT.glob("services/*/src/**/*.py")]
    codes = {code for path in sources for code in CODE.findall(path.read_text())}
    readme = (ROOT / "README.md").read_text()
    missing = sorted(code for code in codes if f"`{code}`" not in readme)
    assert len(codes) > 40  # the scan itself works
    assert missing == [], f"add these codes to the README's error catalogue: {missing}"
