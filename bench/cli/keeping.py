"""Where `bench run` and `bench matrix` put each record the moment its case ends, so none is lost.

A record goes to its --json file (when asked) and to the warehouse (unless --no-store). When
the warehouse does not take it, or its file cannot be written and nothing else holds it, it goes
to the spool for `bench ingest`; when the spool cannot be written either and no file holds it,
its JSON is printed on stdout. A stored record is never also spooled.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from bench.cli.common import UserError
from bench.records import Record
from bench.serialize import to_json


class Keeper:
    """Keeps records as they come (keep), then tells where in one line (report)."""

    def __init__(self, *, store: bool) -> None:
        self.store = store
        self.written: list[Path] = []
        self.stored = 0
        self.spooled: list[Path] = []
        self.printed = 0
        self.problems: dict[str, None] = {}  # ordered, without repeats
        self.unwritable: dict[tuple[Path, str], list[str]] = defaultdict(list)

    def keep(self, record: Record, path: Path | None = None) -> None:
        """Write, store, else spool, else print the record; never raises for any of them."""
        written = path is not None and self._write(record, path)
        stored = False
        if self.store:
            from bench.warehouse.store import try_store

            reason = try_store(record)
            stored = reason is None
            self.stored += stored
            if reason is not None:
                self.problems[reason] = None
        if stored or not (self.store or path is not None and not written):
            return
        from bench.warehouse import spool_dir, spool_record

        try:
            self.spooled.append(spool_record(record))
        except OSError as exc:
            self.problems[f"cannot write the spool {spool_dir()} ({exc.strerror or exc})"] = None
            if not written:  # the last resort: the terminal or whatever reads stdout
                print(to_json(record.to_dict(), indent=None), flush=True)
                self.printed += 1

    def report(self) -> None:
        """Print where the records went; UserError (one line, exit 1) when anything failed."""
        from bench.warehouse import mask_url, warehouse_url

        if len(self.written) == 1:
            print(f"record written to {self.written[0]}")
        elif self.written:
            print(f"{len(self.written)} records written to {self.written[0].parent}")
        if self.stored:
            print(f"stored in the warehouse: {mask_url(warehouse_url())}")
        for (folder, why), names in self.unwritable.items():
            what = folder / names[0] if len(names) == 1 else f"{len(names)} files in {folder}"
            self.problems[f"cannot write {what} ({why})"] = None
        if not self.problems:
            return
        where = []
        if self.stored:
            where.append(f"{self.stored} record(s) stored in the warehouse")
        if self.spooled:
            folder = self.spooled[0].parent
            where.append(
                f"{len(self.spooled)} record(s) kept in {folder}; load them later with "
                f"`bench ingest {folder}`"
            )
        elif self.written and self.store:
            files = str(self.written[0] if len(self.written) == 1 else self.written[0].parent)
            where.append(
                f"the record(s) are in {files}; load them later with `bench ingest {files}`"
            )
        if self.printed:
            where.append(f"{self.printed} record(s) printed as JSON on stdout, save them")
        raise UserError("; ".join([*self.problems, *where]))

    def _write(self, record: Record, path: Path) -> bool:
        try:
            record.write(path)
        except OSError as exc:
            self.unwritable[(path.parent, str(exc.strerror or exc))].append(path.name)
            return False
        self.written.append(path)
        return True
