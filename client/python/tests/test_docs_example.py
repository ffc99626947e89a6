"""The Python examples of docs/clients.md (CatalogClient, then AsyncCatalogClient), run as printed
against the test server."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[3] / "docs" / "clients.md"
REPOSITORY = DOCS.parent.parent


def python_examples() -> list[str]:
    """The two ``python`` code blocks of docs/clients.md."""
    blocks = re.findall(r"^```python\n(.*?)^```$", DOCS.read_text(), re.MULTILINE | re.DOTALL)
    assert len(blocks) == 2, f"expected two python blocks in {DOCS}"
    return blocks


def run_as_printed(example: str, endpoint: str, cwd: Path) -> str:
    """Runs ``example`` against ``endpoint`` from ``cwd`` (holding a copy of README.md)."""
    assert "127.0.0.1:50051" in example
    shutil.copy(REPOSITORY / "README.md", cwd / "README.md")
    run = subprocess.run(
        [sys.executable, "-c", example.replace("127.0.0.1:50051", endpoint)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_the_python_example_runs_as_printed(endpoint, tmp_path):
    output = run_as_printed(python_examples()[0], endpoint, tmp_path)

    assert "no such record" in output
    assert (tmp_path / "readme-copy.md").read_bytes() == (tmp_path / "README.md").read_bytes()


def test_the_asyncio_example_runs_as_printed(endpoint, tmp_path):
    example = python_examples()[1]
    assert "AsyncCatalogClient" in example and "asyncio.run(main())" in example

    output = run_as_printed(example, endpoint, tmp_path)

    assert all(f"https://example.org/{n}.pdf" in output for n in range(3))
    assert "https://example.org/readme" in output
    assert (tmp_path / "readme-async-copy.md").read_bytes() == (tmp_path / "README.md").read_bytes()
