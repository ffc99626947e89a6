"""AsyncCatalogClient.find_duplicates streams too: 10,000 duplicate records (about 7 MB of Python
objects if held in a list, see test_duplicates_memory.py) arrive one group at a time."""

import hashlib
import time
import tracemalloc

from docstokg_catalog import AsyncCatalogClient

GROUPS = 5_000  # of two records each
BATCH = 1_000
PEAK_LIMIT = 1_000_000  # bytes of Python objects alive at once while streaming


async def test_find_duplicates_streams_in_flat_memory(endpoint, doc, unique):
    async with AsyncCatalogClient(endpoint) as aio:
        for start in range(0, 2 * GROUPS, BATCH):
            documents = []
            for i in range(start, start + BATCH):
                n = i // 2
                sha256 = hashlib.sha256(f"{unique}-{n}".encode()).hexdigest()
                documents.append(
                    doc(n, source_url=f"https://example.org/{unique}/{i}", sha256=sha256)
                )
            await aio.register_or_get_batch(documents)

        tracemalloc.start()
        try:
            started = time.perf_counter()
            first_at, ours = None, 0
            async for group in aio.find_duplicates(include_records=True):
                first_at = first_at or time.perf_counter() - started
                ours += group.records[0].artifact_id.startswith(unique)
            total = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert ours == GROUPS
    assert first_at < total / 4, f"first group after {first_at:.2f}s of a {total:.2f}s stream"
    assert peak < PEAK_LIMIT, f"{peak} bytes traced while streaming"
