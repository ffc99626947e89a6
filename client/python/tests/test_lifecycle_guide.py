"""The Python example of docs/lifecycle.md, run as printed against the test server."""

import re
import subprocess
import sys
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "lifecycle.md"


def test_the_lifecycle_guide_python_example_runs_as_printed(endpoint, tmp_path):
    blocks = re.findall(r"^```python\n(.*?)^```$", GUIDE.read_text(), re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, f"expected one python block in {GUIDE}"
    example = blocks[0]
    assert "127.0.0.1:50051" in example
    run = subprocess.run(
        [sys.executable, "-c", example.replace("127.0.0.1:50051", endpoint)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "would delete 3 records" in run.stdout
    assert "deleted 3 records" in run.stdout
    assert "client-keep-one:" in run.stdout, "the suite's server has one retention rule"
    assert "orphans (" in run.stdout
    assert "dedup saves" in run.stdout
