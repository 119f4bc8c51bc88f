"""The store: the one place that builds DynamoDB requests.

Keys and their layout, expressions, conditions, transactions and their retries,
and the mapping of DynamoDB's errors all live in this package; the services
above it speak in records (chalicelib/records.py). A `Store` is made from a
DynamoDB client and a table name, so a script can open any stage's table with
`Store(client, name)`; the app reaches its own through `get_store()`.

Nothing here imports boto3 or botocore at module level: a Lambda cold start
pays for them on the first request that needs the table, not at import.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.db.table import Table

if TYPE_CHECKING:
    from chalicelib.db.accounts import Accounts
    from chalicelib.db.boats import Boats
    from chalicelib.db.counters import Counters
    from chalicelib.db.dock import Dock
    from chalicelib.db.ledger import Ledger
    from chalicelib.db.outbox import OutboxTable
    from chalicelib.db.trips import Trips
    from chalicelib.db.waivers import Waivers


class Store:
    """Every DynamoDB request the app makes, grouped by what it stores.

    Each part is imported when first used: a Lambda's first request loads the
    store code it needs (a trip's detail never loads the accounts or the dock).
    """

    def __init__(self, client: Any, table_name: str) -> None:
        self.table = Table(client, table_name)

    @cached_property
    def trips(self) -> Trips:
        from chalicelib.db.trips import Trips

        return Trips(self.table)

    @cached_property
    def ledger(self) -> Ledger:
        from chalicelib.db.ledger import Ledger

        return Ledger(self.table)

    @cached_property
    def waivers(self) -> Waivers:
        from chalicelib.db.waivers import Waivers

        return Waivers(self.table)

    @cached_property
    def outbox(self) -> OutboxTable:
        from chalicelib.db.outbox import OutboxTable

        return OutboxTable(self.table)

    @cached_property
    def counters(self) -> Counters:
        from chalicelib.db.counters import Counters

        return Counters(self.table)

    @cached_property
    def boats(self) -> Boats:
        from chalicelib.db.boats import Boats

        return Boats(self.table)

    @cached_property
    def dock(self) -> Dock:
        from chalicelib.db.dock import Dock

        return Dock(self.table)

    @cached_property
    def accounts(self) -> Accounts:
        from chalicelib.db.accounts import Accounts

        return Accounts(self.table)

    @property
    def name(self) -> str:
        return self.table.name


_current: Store | None = None


def get_store() -> Store:
    """The app's store: this stage's table through the process's DynamoDB client.

    Made once and kept while the client and the table name stay the same (tests
    reset the clients inside moto and may switch tables: each gets a new store).
    """
    global _current
    from chalicelib import aws, config

    client, name = aws.dynamodb(), config.table_name()
    found = _current
    if found is None or found.table.client is not client or found.name != name:
        found = _current = Store(client, name)
    return found
