"""The look-up's one-statement read of the person and their stored row (`person_with_status`):
the same person and row as the two reads it replaces, `UNREAD` where the access layer restricts
the persons, and the row still held to status_current's rule (missing, dirty or expired:
recomputed before it is served)."""

import datetime as dt

from django.db import connection

from apps.core.clock import now
from apps.people.models import Person
from apps.people.selectors import person_by_id
from apps.status.models import PersonStatus
from apps.status.services import UNREAD, person_with_status, status_current, status_refresh, status_row
from tests.api.helpers import rid

IDN = rid("11010519900101123")


def _read(queryset=None):
    return person_with_status(
        id_type="resident_id", id_number=IDN, queryset=Person.objects.all() if queryset is None else queryset
    )


def test_an_unknown_person_is_none_and_a_person_without_a_row_has_none(world):
    assert _read() == (None, None)
    ref = world.person(IDN, community="CA")
    PersonStatus.objects.filter(person__ref=ref).delete()
    person, row = _read()
    assert person.ref == ref and person == person_by_id(id_type="resident_id", id_number=IDN)
    assert row is None


def test_the_person_and_row_are_those_of_the_two_reads_in_one_statement(world, django_assert_num_queries, monkeypatch):
    ref = world.person(IDN, community="CA")
    expected = status_refresh(person_id=Person.objects.get(ref=ref).pk)
    if connection.vendor == "postgresql":  # psycopg's connection itself: not in Django's query log
        connection.ensure_connection()
        sent, execute = [], connection.connection.execute
        monkeypatch.setattr(connection.connection, "execute", lambda *a, **k: sent.append(a[0]) or execute(*a, **k))
        with django_assert_num_queries(0):
            person, row = _read()
        assert len(sent) == 1 and "LEFT JOIN" in sent[0]
    else:
        with django_assert_num_queries(1):
            person, row = _read()
    stored = status_row(person_id=person.pk)
    assert person.birth_date and person.display_id and person == Person.objects.get(ref=ref)
    assert row == stored and row.pk == expected.pk
    for field in PersonStatus._meta.concrete_fields:
        assert getattr(row, field.attname) == getattr(stored, field.attname), field.name


def test_a_restricted_queryset_reads_the_person_through_the_access_layer_and_leaves_the_row_unread(world):
    world.person(IDN, community="CA")
    unseen = Person.objects.visible_to(world.personas.user("worker_b"))
    assert _read(unseen) == (None, UNREAD)
    person, row = _read(Person.objects.visible_to(world.personas.user("worker_a")))
    assert person is not None and row is UNREAD


def test_a_row_read_with_the_person_is_held_to_the_same_rule(world, django_assert_num_queries):
    ref = world.person(IDN, community="CA")
    pk = Person.objects.get(ref=ref).pk
    fresh = status_refresh(person_id=pk)
    with django_assert_num_queries(0):
        assert status_current(person_id=pk, row=fresh) is fresh
    dirty = status_row(person_id=pk)
    dirty.dirty_since = dirty.computed_at
    recomputed = status_current(person_id=pk, row=dirty)
    assert recomputed is not dirty and recomputed.dirty_since is None
    assert status_current(person_id=pk, row=None).person_id == pk  # no row: computed
    expired = status_row(person_id=pk)
    expired.next_change_at = now() - dt.timedelta(seconds=1)
    assert status_current(person_id=pk, row=expired) is not expired  # recomputed
