"""Registry on both backends: numbering, aliases, references, archiving; races on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.db import session_scope
from models.errors import Conflict, InvalidInput, NotFound
from models.registry import (
    archive_version,
    delete_alias,
    get_model,
    get_version,
    list_aliases,
    list_models,
    list_versions,
    parse_reference,
    register_version,
    resolve_reference,
    resolve_served,
    set_alias,
)
from models.tables import ModelVersion, RegisteredModel, VersionStatus
from tests.models.conftest import unique_name, version_fields


def test_versions_start_at_one_and_count_up(session: Session) -> None:
    name = unique_name()
    versions = [register_version(session, name, **version_fields()) for _ in range(3)]
    assert [v.version for v in versions] == [1, 2, 3]
    stored = get_version(session, name, 2)
    assert stored.status == VersionStatus.READY
    assert stored.metrics["seasonal_naive"] == {"mase": 1.0}
    assert stored.artifact_size == 1234
    assert stored.created_at.tzinfo is not None
    other = register_version(session, unique_name(), **version_fields())
    assert other.version == 1


def test_unknown_fields_and_bad_names_are_refused(session: Session) -> None:
    with pytest.raises(InvalidInput, match="bogus"):
        register_version(session, unique_name(), **version_fields(bogus=1))
    with pytest.raises(InvalidInput, match="model name"):
        register_version(session, "a b", **version_fields())


def test_references_resolve_to_exactly_one_version(session: Session) -> None:
    name = unique_name()
    for _ in range(3):
        register_version(session, name, **version_fields())
    set_alias(session, name, "production", 2)
    assert resolve_reference(session, name).version == 3
    assert resolve_reference(session, f"{name}@1").version == 1
    assert resolve_reference(session, f"{name}@production").version == 2
    for missing in (f"{name}@9", f"{name}@staging", unique_name()):
        with pytest.raises(NotFound):
            resolve_reference(session, missing)
    with pytest.raises(InvalidInput):
        resolve_reference(session, f"{name}@-x")


def test_the_served_columns_resolve_as_the_full_version_does(session: Session) -> None:
    name = unique_name()
    for _ in range(3):
        register_version(session, name, **version_fields())
    set_alias(session, name, "production", 2)
    archive_version(session, name, 3)  # the bare name now means version 2
    for reference in (name, f"{name}@1", f"{name}@3", f"{name}@production"):
        full = resolve_reference(session, reference)
        served = resolve_served(session, reference)
        assert (served.version, served.horizon) == (full.version, full.horizon)
        assert served.artifact_sha256 == full.artifact_sha256
    assert resolve_served(session, name).version == 2
    for missing in (f"{name}@9", f"{name}@staging", unique_name()):
        with pytest.raises(NotFound) as full_error:
            resolve_reference(session, missing)
        with pytest.raises(NotFound) as served_error:
            resolve_served(session, missing)
        assert str(served_error.value) == str(full_error.value)
    with pytest.raises(InvalidInput):
        resolve_served(session, f"{name}@-x")


def test_parse_reference() -> None:
    assert parse_reference("m") == ("m", None)
    assert parse_reference("m@12") == ("m", 12)
    assert parse_reference("m@prod") == ("m", "prod")


def test_aliases_set_move_delete(session: Session) -> None:
    name = unique_name()
    register_version(session, name, **version_fields())
    register_version(session, name, **version_fields())
    set_alias(session, name, "production", 1)
    set_alias(session, name, "staging", 2)
    set_alias(session, name, "production", 2)
    assert list_aliases(session, name) == {"production": 2, "staging": 2}
    delete_alias(session, name, "staging")
    assert list_aliases(session, name) == {"production": 2}
    with pytest.raises(NotFound):
        delete_alias(session, name, "staging")
    with pytest.raises(NotFound):
        set_alias(session, name, "production", 7)
    with pytest.raises(InvalidInput):
        set_alias(session, name, "7", 1)


def test_archiving_keeps_the_row_and_skips_it_for_plain_names(session: Session) -> None:
    name = unique_name()
    register_version(session, name, **version_fields())
    register_version(session, name, **version_fields(description="second"))
    set_alias(session, name, "production", 2)
    with pytest.raises(Conflict, match="production"):
        archive_version(session, name, 2)
    delete_alias(session, name, "production")
    archived = archive_version(session, name, 2)
    assert archived.status == VersionStatus.ARCHIVED
    assert get_version(session, name, 2).description == "second"
    assert resolve_reference(session, name).version == 1
    with pytest.raises(Conflict, match="archived"):
        set_alias(session, name, "production", 2)
    archive_version(session, name, 1)
    with pytest.raises(NotFound, match="no ready version"):
        resolve_reference(session, name)


def test_listing_is_newest_first_with_cursors(session: Session) -> None:
    name = unique_name()
    for _ in range(5):
        register_version(session, name, **version_fields())
    archive_version(session, name, 1)
    page = list_versions(session, name, limit=3)
    assert [v.version for v in page.items] == [5, 4, 3]
    rest = list_versions(session, name, limit=3, cursor=page.next_cursor)
    assert [v.version for v in rest.items] == [2, 1]
    assert rest.next_cursor is None
    ready = list_versions(session, name, status=VersionStatus.READY)
    assert [v.version for v in ready.items] == [5, 4, 3, 2]
    assert get_model(session, name).name in [m.name for m in list_models(session).items]
    with pytest.raises(InvalidInput, match="cursor"):
        list_versions(session, name, cursor="not-a-cursor")
    with pytest.raises(InvalidInput, match="limit"):
        list_versions(session, name, limit=0)


def test_racing_registrations_get_gap_free_numbers(
    committing_factory: sessionmaker[Session],
) -> None:
    name = unique_name("race")
    threads, per_thread = 4, 5
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def register_many() -> None:
        try:
            barrier.wait()
            for _ in range(per_thread):
                with session_scope(committing_factory) as session:
                    register_version(session, name, **version_fields())
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread's assertion
            errors.append(exc)

    workers = [threading.Thread(target=register_many) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    with session_scope(committing_factory) as session:
        model = get_model(session, name)
        numbers = session.scalars(
            select(ModelVersion.version).where(ModelVersion.model_id == model.id)
        ).all()
        session.delete(model)
    assert errors == []
    assert sorted(numbers) == list(range(1, threads * per_thread + 1))


def test_racing_first_registrations_create_one_model(
    committing_factory: sessionmaker[Session],
) -> None:
    name = unique_name("first")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def register_once() -> None:
        try:
            with session_scope(committing_factory) as session:
                barrier.wait()
                register_version(session, name, **version_fields())
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread's assertion
            errors.append(exc)

    workers = [threading.Thread(target=register_once) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    with session_scope(committing_factory) as session:
        models = session.scalars(select(RegisteredModel).where(RegisteredModel.name == name)).all()
        numbers = sorted(v.version for v in list_versions(session, name).items)
        for model in models:
            session.delete(model)
    assert errors == []
    assert len(models) == 1
    assert numbers == [1, 2]
