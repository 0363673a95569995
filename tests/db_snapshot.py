"""Load a fixture's data once per test process, then copy it back for every other test.

Loading the demo territory (communes, layers, grids, two years of synthetic problems, an
adopted plan and its GPOs' synthetic life) runs the whole import path and takes seconds;
most tests only need its result. The first test that asks for it loads it the real way;
its tables are then copied out with ``COPY … TO STDOUT (FORMAT binary)``, and every later
test of the process gets the same rows back with ``COPY … FROM STDIN``, the sequences
where the load left them. Same rows, same ids: a test cannot tell the difference, except
for the time. The load itself stays tested by the first test of each process and by the
tests of the demo (``tests/api/test_demo_gpos.py``), which call it directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text

#: Foreign keys between the tables: (child, parent).
FOREIGN_KEYS = text(
    """
    SELECT c.conrelid::regclass::text, c.confrelid::regclass::text
    FROM pg_constraint c
    WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
    """
)
SEQUENCES = text(
    "SELECT sequencename, last_value FROM pg_sequences "
    "WHERE schemaname = 'public' AND last_value IS NOT NULL"
)


@dataclass(frozen=True)
class Snapshot:
    """The rows of some tables (binary COPY, parents first) and the sequences' values."""

    tables: tuple[tuple[str, bytes], ...]
    sequences: tuple[tuple[str, int], ...]


def _parents_first(engine: Engine, tables: Sequence[str]) -> list[str]:
    with engine.connect() as conn:
        edges = [(c, p) for c, p in conn.execute(FOREIGN_KEYS).all() if c != p]
    order: list[str] = []
    pending = list(tables)
    while pending:
        ready = [t for t in pending if not any(c == t and p in pending for c, p in edges)]
        assert ready, f"a cycle of foreign keys among {pending}"
        order.extend(ready)
        pending = [t for t in pending if t not in ready]
    return order


def take(engine: Engine, tables: Sequence[str]) -> Snapshot:
    """The rows of ``tables`` and the values of every used sequence."""
    rows: list[tuple[str, bytes]] = []
    raw: Any = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            for table in _parents_first(engine, tables):
                data = bytearray()
                with cur.copy(f"COPY {table} TO STDOUT (FORMAT binary)") as copy:
                    for block in copy:
                        data += block
                rows.append((table, bytes(data)))
            cur.execute(SEQUENCES.text)
            sequences = tuple((str(n), int(v)) for n, v in cur.fetchall())
        raw.commit()
    finally:
        raw.close()
    return Snapshot(tuple(rows), sequences)


def restore(engine: Engine, snapshot: Snapshot) -> None:
    """Put the snapshot's rows back into the (empty) tables, in one transaction."""
    raw: Any = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            for table, data in snapshot.tables:
                with cur.copy(f"COPY {table} FROM STDIN (FORMAT binary)") as copy:
                    copy.write(data)
            for name, value in snapshot.sequences:
                cur.execute("SELECT setval(%s, %s, true)", (name, value))
        raw.commit()
    finally:
        raw.close()


class Snapshots:
    """The snapshots of one test process, by name."""

    def __init__(self, tables: Sequence[str]) -> None:
        self.tables = tuple(tables)
        self._taken: dict[str, Snapshot] = {}

    def empty(self, engine: Engine) -> bool:
        """Whether the tables hold no row (a fixture set up before may have written)."""
        probe = " UNION ALL ".join(f"(SELECT 1 FROM {t} LIMIT 1)" for t in self.tables)
        with engine.connect() as conn:
            return conn.execute(text(f"SELECT count(*) FROM ({probe}) AS rows")).scalar() == 0

    def load(self, engine: Engine, name: str, load: Callable[[], object]) -> None:
        """``load()`` into the empty database the first time, the copy of its result after.
        A database that is not empty (another fixture wrote first) gets ``load()``."""
        if not self.empty(engine):
            load()
            return
        snapshot = self._taken.get(name)
        if snapshot is None:
            load()
            self._taken[name] = take(engine, self.tables)
        else:
            restore(engine, snapshot)
