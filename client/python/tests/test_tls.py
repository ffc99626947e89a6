"""Mutual TLS against the server scripts/test-clients started with a CA it made: the client's
certificate gets in, a client without one or without TLS does not."""

import os
from pathlib import Path

import pytest

from docstokg_catalog import AsyncCatalogClient, CatalogClient, Unavailable


def setting(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run scripts/test-clients, which starts the servers")
    return value


def pem(name: str) -> bytes:
    return Path(setting(name)).read_bytes()


def mutual_tls() -> dict[str, bytes]:
    return {
        "root_certificates": pem("CATALOG_TEST_TLS_CA"),
        "certificate_chain": pem("CATALOG_TEST_TLS_CLIENT_CERT"),
        "private_key": pem("CATALOG_TEST_TLS_CLIENT_KEY"),
    }


def test_a_client_certificate_signed_by_the_client_ca_gets_in(doc):
    with CatalogClient(setting("CATALOG_TEST_TLS_ENDPOINT"), tls=True, **mutual_tls()) as client:
        outcome = client.register_or_get(**doc(0))
        assert outcome.created
        assert client.health_check() is True


async def test_the_asyncio_client_speaks_mutual_tls_too(doc):
    target = setting("CATALOG_TEST_TLS_ENDPOINT")
    async with AsyncCatalogClient(target, tls=True, **mutual_tls()) as client:
        assert (await client.register_or_get(**doc(0))).created


def test_without_a_client_certificate_or_without_tls_the_call_fails():
    target = setting("CATALOG_TEST_TLS_ENDPOINT")
    without_cert = CatalogClient(
        target, tls=True, root_certificates=pem("CATALOG_TEST_TLS_CA"), timeout=5
    )
    plaintext = CatalogClient(target, timeout=5)
    with without_cert, plaintext:
        with pytest.raises(Unavailable):
            without_cert.stats()
        with pytest.raises(Unavailable):
            plaintext.stats()


def test_half_a_client_identity_is_refused():
    with pytest.raises(ValueError, match="both"):
        CatalogClient(
            setting("CATALOG_TEST_TLS_ENDPOINT"),
            tls=True,
            private_key=pem("CATALOG_TEST_TLS_CLIENT_KEY"),
        )
