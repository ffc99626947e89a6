"""Stats, ProviderHealth, the standard health service, and bearer-token auth."""

import pytest

from docstokg_catalog import CatalogClient, HealthState, Unauthenticated


def test_stats_count_what_was_registered(catalog, doc, provider):
    before = catalog.stats()
    catalog.register_or_get_batch([doc(n, resolver="stats-resolver", bytes=5) for n in range(3)])
    after = catalog.stats()

    assert after.provider == provider
    assert after.total_records >= before.total_records + 3
    assert after.total_bytes >= before.total_bytes + 15
    assert after.by_resolver["stats-resolver"] >= 3
    assert {backend.role for backend in after.storage_backends} == {"metadata", "blobs"}


def test_provider_health_reports_every_backend(catalog):
    health = catalog.provider_health()
    assert health.state is HealthState.HEALTHY
    assert {backend.name for backend in health.backends} == {"metadata", "blobs"}
    assert all(backend.latency_ms >= 0 for backend in health.backends)


def test_health_check_reports_serving(catalog):
    assert catalog.health_check() is True
    assert catalog.health_check("docstokg.catalog.v1.CatalogService") is True


def test_with_auth_enabled_a_call_without_the_token_is_unauthenticated(auth_endpoint):
    anonymous, wrong = CatalogClient(auth_endpoint), CatalogClient(auth_endpoint, "wrong")
    with anonymous, wrong:
        assert anonymous.health_check() is True, "health needs no token"
        with pytest.raises(Unauthenticated):
            anonymous.stats()
        with pytest.raises(Unauthenticated):
            list(wrong.list_records(run_id="anything"))


def test_with_auth_enabled_the_token_opens_every_call(auth_endpoint, token, doc):
    with CatalogClient(auth_endpoint, token) as catalog:
        record = catalog.register_or_get(**doc()).record
        assert catalog.get_record(record.id) == record
        assert list(catalog.list_records(run_id="nothing-registered-here")) == []
