"""The Python examples of docs/clients.md (CatalogClient, the seed's connector example, then
AsyncCatalogClient), run as printed against the test server."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[3] / "docs" / "clients.md"
REPOSITORY = DOCS.parent.parent
#: The addresses the examples name: the docs' own, and the seed's (in its connector example).
ADDRESSES = ("127.0.0.1:50051", "localhost:50051")


def python_examples() -> list[str]:
    """The three ``python`` code blocks of docs/clients.md, in order."""
    blocks = re.findall(r"^```python\n(.*?)^```$", DOCS.read_text(), re.MULTILINE | re.DOTALL)
    assert len(blocks) == 3, f"expected three python blocks in {DOCS}"
    return blocks


def run_as_printed(example: str, endpoint: str, cwd: Path) -> str:
    """Runs ``example`` against ``endpoint`` from ``cwd`` (holding a copy of README.md)."""
    assert any(address in example for address in ADDRESSES)
    for address in ADDRESSES:
        example = example.replace(address, endpoint)
    shutil.copy(REPOSITORY / "README.md", cwd / "README.md")
    run = subprocess.run(
        [sys.executable, "-c", example],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_the_python_example_runs_as_printed(endpoint, tmp_path):
    example = python_examples()[0]
    assert "NotFound" in example

    output = run_as_printed(example, endpoint, tmp_path)

    assert "no such record" in output
    assert (tmp_path / "readme-copy.md").read_bytes() == (tmp_path / "README.md").read_bytes()


def test_the_seed_connector_example_runs_as_printed(catalog, endpoint, tmp_path):
    example = python_examples()[1]
    assert 'CatalogClient("localhost:50051") as cat:' in example
    assert "print(record.id, record.artifact_id, record.sha256)" in example

    output = run_as_printed(example, endpoint, tmp_path)

    key = ("W123", "https://example.org/a.pdf", "unpaywall")
    records = catalog.get_by_artifact("W123")
    (stored,) = [r for r in records if (r.artifact_id, r.source_url, r.resolver) == key]
    assert output == f"{stored.id} W123 {stored.sha256}\n"


def test_the_asyncio_example_runs_as_printed(endpoint, tmp_path):
    example = python_examples()[2]
    assert "AsyncCatalogClient" in example and "asyncio.run(main())" in example

    output = run_as_printed(example, endpoint, tmp_path)

    assert all(f"https://example.org/{n}.pdf" in output for n in range(3))
    assert "https://example.org/readme" in output
    assert (tmp_path / "readme-async-copy.md").read_bytes() == (tmp_path / "README.md").read_bytes()
