"""The database router of the read replicas (apps.core.replicas; README: Read replicas).

Reads of people and statuses inside `replicas.reading()` go to the replica it picked; everything
else — every write, every read outside such a block or inside a transaction on the primary — goes to
the primary. An object read from a replica is written to the primary, and its related objects are
read from the primary once the block has ended (a replica may be gone by then)."""

from django.db import DEFAULT_DB_ALIAS

from . import replicas

# The apps whose reads a look-up may serve from a replica: the person and the status.
ROUTED_APPS = frozenset({"people", "status"})


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        alias = replicas.reading_alias()
        instance = hints.get("instance")
        on = getattr(getattr(instance, "_state", None), "db", None)
        if alias is not None and (model._meta.app_label in ROUTED_APPS or on == alias):
            return alias
        if on is not None and on != DEFAULT_DB_ALIAS and on in replicas.replica_aliases():
            return DEFAULT_DB_ALIAS
        return None

    def db_for_write(self, model, **hints):
        instance = hints.get("instance")
        on = getattr(getattr(instance, "_state", None), "db", None)
        if on is not None and on != DEFAULT_DB_ALIAS and on in replicas.replica_aliases():
            return DEFAULT_DB_ALIAS  # never a replica (Django would write where the object was read)
        return None

    def allow_relation(self, obj1, obj2, **hints):
        """A replica holds the primary's rows: objects read from either may be related."""
        dbs = {obj1._state.db or DEFAULT_DB_ALIAS, obj2._state.db or DEFAULT_DB_ALIAS}
        if dbs <= {DEFAULT_DB_ALIAS, *replicas.replica_aliases()}:
            return True
        return None

    def allow_migrate(self, db, app_label, **hints):
        """Never migrate a replica (it is read-only; it gets the primary's schema by streaming)."""
        if db in replicas.replica_aliases():
            return False
        return None
