"""FindDuplicates over 100,000 duplicate records streams to the caller.

Held in a list, those records take about 70 MB of Python objects (measured: 50,000 groups of two
``DocumentRecord`` values); streamed, the caller's traced memory stays under a megabyte and the
first group arrives long before the last.
"""

import hashlib
import itertools
import time
import tracemalloc

GROUPS = 50_000  # of two records each: 100,000 duplicate records
BATCH = 1_000  # the server's default batch limit
PEAK_LIMIT = 1_000_000  # bytes of Python objects alive at once while streaming


def register_duplicates(catalog, doc, unique):
    for start in range(0, GROUPS, BATCH // 2):
        documents = []
        for n in range(start, start + BATCH // 2):
            sha256 = hashlib.sha256(f"{unique}-{n}".encode()).hexdigest()
            for copy in range(2):
                url = f"https://example.org/{unique}/{n}/{copy}"
                documents.append(doc(n, source_url=url, sha256=sha256, bytes=n))
        catalog.register_or_get_batch(documents)


def test_find_duplicates_streams_100k_records_in_flat_memory(catalog, doc, unique):
    register_duplicates(catalog, doc, unique)

    tracemalloc.start()
    try:
        started = time.perf_counter()
        groups = catalog.find_duplicates(include_records=True)
        first = next(groups)
        first_at = time.perf_counter() - started
        ours = records = 0
        for group in itertools.chain([first], groups):
            if group.records[0].artifact_id.startswith(unique):
                ours += 1
                records += len(group.records)
        total = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert (ours, records) == (GROUPS, 2 * GROUPS)
    assert first_at < total / 4, f"first group after {first_at:.2f}s of a {total:.2f}s stream"
    assert peak < PEAK_LIMIT, f"{peak} bytes traced while streaming"
