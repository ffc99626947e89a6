"""Fixtures: clients of the running catalog-server that scripts/test-clients started.

CATALOG_TEST_ENDPOINT is a server without auth, configured with one retention rule
(``client-keep-one resolver=client-retention keep_latest=1``, which one test of each suite uses);
CATALOG_TEST_AUTH_ENDPOINT a server without retention rules that wants CATALOG_TEST_TOKEN
(read-write) or CATALOG_TEST_READ_ONLY_TOKEN; CATALOG_TEST_PROVIDER the provider both run. Every
test makes its own ids, so the suites of both languages can share the servers.

``async def`` tests (of ``AsyncCatalogClient``) run in a fresh event loop with ``asyncio.run``: the
pinned tool list of scripts/test-clients has no asyncio plugin.
"""

import asyncio
import inspect
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from docstokg_catalog import CatalogClient


def setting(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run scripts/test-clients, which starts the servers")
    return value


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    test = pyfuncitem.obj
    if not inspect.iscoroutinefunction(test):
        return None  # pytest calls it
    arguments = {name: pyfuncitem.funcargs[name] for name in inspect.signature(test).parameters}
    asyncio.run(test(**arguments))
    return True


@pytest.fixture
def endpoint() -> str:
    return setting("CATALOG_TEST_ENDPOINT")


@pytest.fixture
def auth_endpoint() -> str:
    return setting("CATALOG_TEST_AUTH_ENDPOINT")


@pytest.fixture
def token() -> str:
    return setting("CATALOG_TEST_TOKEN")


@pytest.fixture
def read_only_token() -> str:
    return setting("CATALOG_TEST_READ_ONLY_TOKEN")


@pytest.fixture
def provider() -> str:
    return setting("CATALOG_TEST_PROVIDER")


@pytest.fixture
def catalog(endpoint: str) -> Iterator[CatalogClient]:
    with CatalogClient(endpoint) as client:
        yield client


@pytest.fixture
def unique() -> str:
    """A fresh prefix for the ids one test registers."""
    return uuid.uuid4().hex


@pytest.fixture
def doc(unique: str) -> Callable[..., dict[str, Any]]:
    """Makes the fields of document ``n`` of this test, with keyword arguments overriding."""

    def make(n: int = 0, **fields: Any) -> dict[str, Any]:
        return {
            "artifact_id": f"{unique}-artifact-{n}",
            "source_url": f"https://example.org/{unique}/{n}.pdf",
            "resolver": "unpaywall",
            **fields,
        }

    return make
