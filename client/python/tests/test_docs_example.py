"""The Python example of docs/clients.md, run as printed against the test server."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[3] / "docs" / "clients.md"
REPOSITORY = DOCS.parent.parent


def fenced(language: str) -> str:
    """The one ``language`` code block of docs/clients.md."""
    blocks = re.findall(rf"^```{language}\n(.*?)^```$", DOCS.read_text(), re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, f"expected one {language} block in {DOCS}"
    return blocks[0]


def test_the_python_example_runs_as_printed(endpoint, tmp_path):
    example = fenced("python")
    assert "127.0.0.1:50051" in example
    shutil.copy(REPOSITORY / "README.md", tmp_path / "README.md")

    run = subprocess.run(
        [sys.executable, "-c", example.replace("127.0.0.1:50051", endpoint)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert run.returncode == 0, run.stderr
    assert "no such record" in run.stdout
    assert (tmp_path / "readme-copy.md").read_bytes() == (tmp_path / "README.md").read_bytes()
