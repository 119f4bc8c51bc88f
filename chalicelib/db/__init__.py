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

from typing import Any

from chalicelib.db.accounts import Accounts
from chalicelib.db.boats import Boats
from chalicelib.db.counters import Counters
from chalicelib.db.dock import Dock
from chalicelib.db.ledger import Ledger
from chalicelib.db.outbox import OutboxTable
from chalicelib.db.table import Table
from chalicelib.db.trips import Trips
from chalicelib.db.waivers import Waivers


class Store:
    """Every DynamoDB request the app makes, grouped by what it stores."""

    def __init__(self, client: Any, table_name: str) -> None:
        self.table = Table(client, table_name)
        self.trips = Trips(self.table)
        self.ledger = Ledger(self.table)
        self.waivers = Waivers(self.table)
        self.outbox = OutboxTable(self.table)
        self.counters = Counters(self.table)
        self.boats = Boats(self.table)
        self.dock = Dock(self.table)
        self.accounts = Accounts(self.table)

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
