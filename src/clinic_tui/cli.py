"""`clinic-tui` and its sub-commands.

Imports stay lazy: the plain `clinic-tui` path must reach the first screen fast, so Alembic,
SQLAlchemy's dialect and babel's tables load only for the commands that need them.
"""

from __future__ import annotations

import argparse
import atexit
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from clinic_tui.i18n import N_, _, format_size, set_language

if TYPE_CHECKING:
    from clinic_tui.config import Settings
    from clinic_tui.db.engine import Database


class CliError(Exception):
    """A failure to report in one line (or a few), without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clinic-tui",
        description="Front desk of a physiotherapy clinic, in a terminal.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument(
        "--database-url",
        help="use this PostgreSQL server instead of the "
        "embedded one (postgresql+psycopg://user:pass@host:port/db)",
    )
    parser.add_argument("--data-dir", help="where the embedded server keeps its data")
    parser.add_argument("--lang", choices=["en", "vi"], help="interface language")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    db = commands.add_parser("db", help="database administration")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("url", help="print a URL psql accepts")
    db_commands.add_parser("current", help="print the schema revision")
    upgrade = db_commands.add_parser("upgrade", help="migrate forward (default: to head)")
    upgrade.add_argument("revision", nargs="?", default="head")
    downgrade = db_commands.add_parser("downgrade", help="migrate back to a revision")
    downgrade.add_argument("revision")
    db_commands.add_parser("history", help="list every revision")
    db_commands.add_parser("verify", help="check extensions, tables, seeds and functions")
    db_commands.add_parser("backup", help="write a backup (pg_dump) into the backup folder")
    restore = db_commands.add_parser("restore", help="replace the database with a backup")
    restore.add_argument("file", help="a .dump file written by `clinic-tui db backup`")
    restore.add_argument(
        "--yes", action="store_true", help="do not ask for the backup's revision id"
    )

    demo = commands.add_parser("demo", help="load a demo clinic (accounts, doctors, patients)")
    demo.add_argument(
        "--patients",
        type=int,
        default=200,
        help="how many patients (1000000 builds a benchmark-size clinic)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.version:
        import clinic_tui

        print(f"clinic-tui {clinic_tui.__version__}")
        return 0
    try:
        settings = _settings(args)
    except Exception as error:  # a broken config file or environment value
        print(_("Configuration error: {error}").format(error=error), file=sys.stderr)
        return 2
    set_language(settings.lang)
    _exit_cleanly_on_signals()
    handler: Callable[[Settings, argparse.Namespace], int]
    if args.command == "db":
        handler = _DB_COMMANDS[args.db_command]
    elif args.command == "demo":
        handler = _demo
    else:
        handler = _run_app
    try:
        return handler(settings, args)
    except CliError as error:
        print(str(error), file=sys.stderr)
        return 1


def _settings(args: argparse.Namespace) -> Settings:
    from clinic_tui.config import Settings

    return Settings().with_overrides(
        database_url=args.database_url, data_dir=args.data_dir, lang=args.lang
    )


def _exit_cleanly_on_signals() -> None:
    """SIGTERM / SIGHUP become a normal exit, so the embedded server is released."""

    def _exit(signum: int, _frame: object) -> NoReturn:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit)


def open_database(settings: Settings) -> Database:
    """Connect (starting the embedded server if needed), or raise CliError with what to do."""
    from clinic_tui.db.embedded import EmbeddedServerError
    from clinic_tui.db.engine import Database, DatabaseUnavailable

    try:
        database = Database.from_settings(settings)
    except EmbeddedServerError as error:
        raise CliError(describe_server_failure(error, settings)) from None
    atexit.register(database.close)
    try:
        database.check()
    except DatabaseUnavailable as error:
        raise CliError(describe_unavailable(error)) from None
    return database


def describe_server_failure(error: Exception, settings: Settings) -> str:
    log_tail = getattr(error, "log_tail", "") or ""
    lines = [
        _("The embedded PostgreSQL server could not start: {reason}").format(reason=error),
        _("Data directory: {path}").format(path=settings.pgdata),
    ]
    if log_tail:
        lines += ["", _("Last lines of the server log:"), log_tail, ""]
    lines.append(
        _(
            "What to do: check free disk space and that the data directory belongs to you; "
            "if another program uses that directory, stop it; or point clinic-tui at a "
            "server with --database-url."
        )
    )
    return "\n".join(lines)


UNAVAILABLE_MESSAGES = {
    "auth": N_("The database refused the user name or password."),
    "unknown_host": N_("The database server's host name is unknown."),
    "unreachable": N_("The database server cannot be reached."),
    "no_database": N_("The database does not exist on that server."),
    "schema": N_(
        "The database's structure does not match this program: it is being upgraded or was "
        "rolled back. Ask an administrator; your entries are kept."
    ),
    "other": N_("The database cannot be used."),
}


def describe_unavailable(error: Exception) -> str:
    reason = getattr(error, "reason", "other")
    detail = getattr(error, "detail", "")
    message = _(UNAVAILABLE_MESSAGES.get(reason, UNAVAILABLE_MESSAGES["other"]))
    return f"{message} ({detail})" if detail else message


def describe_database_error(error: BaseException) -> str:
    """Any exception from a database call, as the one translated line staff see."""
    from clinic_tui.db.engine import classify_error

    return describe_unavailable(classify_error(error))


# ---- the TUI ------------------------------------------------------------------------------


def configure_logging(settings: Settings) -> Path | None:
    """The program's log: `logs/clinic-tui.log` in the data folder, owner-only (it may name
    database errors, never patients: services log ids and actions). None when it cannot be
    written: the front desk works without it."""
    import logging

    from clinic_tui.private_files import private_append_file, private_folder

    try:
        path = private_append_file(private_folder(settings.log_dir) / "clinic-tui.log")
    except OSError:
        return None
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    return path


def _run_app(settings: Settings, _args: argparse.Namespace) -> int:
    from clinic_tui.ui.app import ClinicApp

    configure_logging(settings)
    app = ClinicApp(settings)
    app.run()
    return app.return_code or 0


# ---- demo --------------------------------------------------------------------------------


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from clinic_tui.db import migrations
    from clinic_tui.services.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, build_demo_clinic

    if args.patients < 0:
        raise CliError(_("The number of patients cannot be negative."))
    database = open_database(settings)
    migrations.upgrade(database.url)
    last_shown = -1

    def progress(message: str, fraction: float) -> None:
        nonlocal last_shown
        percent = int(fraction * 100)
        if percent // 10 != last_shown // 10:
            last_shown = percent
            print(f"  {percent:3d} %  {message}", flush=True)

    with database.session() as session:
        summary = build_demo_clinic(session, patients=args.patients, progress=progress)
    print(
        _("Demo clinic ready in {seconds:.1f} s: {patients} demo patients.").format(
            seconds=summary.seconds, patients=summary.demo_patients
        )
    )
    print(_("Demo accounts (password {password}):").format(password=DEMO_PASSWORD))
    for email, role in DEMO_ACCOUNTS:
        print(f"  {email}  ({role})")
    return 0


# ---- db ----------------------------------------------------------------------------------


def _db_url(settings: Settings, _args: argparse.Namespace) -> int:
    from clinic_tui.db.engine import libpq_url

    database = open_database(settings)
    print(libpq_url(database.url))
    if database.server is not None:
        # psql needs the server after we exit: leave it running for this one.
        database.server = None
    return 0


def _db_current(settings: Settings, _args: argparse.Namespace) -> int:
    database = open_database(settings)
    info = database.check()
    print(info.revision or _("empty database"))
    return 0


def _db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from clinic_tui.db import migrations

    database = open_database(settings)
    migrations.upgrade(database.url, args.revision, on_step=lambda rev: print(f"  → {rev}"))
    print(_("Database at revision {revision}.").format(revision=database.check().revision))
    return 0


def _db_downgrade(settings: Settings, args: argparse.Namespace) -> int:
    from clinic_tui.db import migrations

    database = open_database(settings)
    migrations.downgrade(database.url, args.revision, on_step=lambda rev: print(f"  ← {rev}"))
    revision = database.check().revision
    if revision is None:
        print(_("The database is empty: every revision was undone."))
    else:
        print(_("Database at revision {revision}.").format(revision=revision))
    return 0


def _db_history(settings: Settings, _args: argparse.Namespace) -> int:
    from clinic_tui.db import migrations

    database = open_database(settings)
    current = database.check().revision
    for revision in migrations.chain():
        marker = "*" if revision.id == current else " "
        print(f"{marker} {revision.id}  {revision.description}")
    return 0


def _db_verify(settings: Settings, _args: argparse.Namespace) -> int:
    from clinic_tui.services.verify import run_checks

    database = open_database(settings)
    with database.engine.connect() as conn:
        checks = run_checks(conn)
    from clinic_tui.services.verify import describe

    for check in checks:
        mark = "✓" if check.ok else "✗"
        print(f"{mark} {describe(check, _)}" + (f" — {check.detail}" if check.detail else ""))
    failed = sum(not check.ok for check in checks)
    print(_("{passed} passed, {failed} failed").format(passed=len(checks) - failed, failed=failed))
    return 1 if failed else 0


def _db_backup(settings: Settings, _args: argparse.Namespace) -> int:
    from clinic_tui.i18n import format_number
    from clinic_tui.services import backups

    database = open_database(settings)
    print(_("Backing up into {folder}…").format(folder=settings.backup_dir), flush=True)
    try:
        info = backups.backup_now(
            database.url,
            backups.console_actor(),
            backup_dir=settings.backup_dir,
            keep=settings.backup_keep,
            on_progress=_progress_lines(),
        )
    except backups.BackupError as error:
        raise CliError(error.describe(_)) from None
    print(
        _("Backup written: {path} ({size}, revision {revision}, {rows} rows).").format(
            path=info.path,
            size=format_size(info.size),
            revision=info.revision,
            rows=format_number(info.total_rows),
        )
    )
    return 0


def _db_restore(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from clinic_tui.config import CLINIC_TIMEZONE
    from clinic_tui.i18n import format_datetime, format_number
    from clinic_tui.services import backups

    path = Path(args.file).expanduser().absolute()
    database = open_database(settings)
    try:
        revision = backups.backup_revision(path)
        if not args.yes:
            created = backups.read_info(path).created_at.astimezone(CLINIC_TIMEZONE)
            print(
                _(
                    "Everything in the database {database} will be replaced by the backup of "
                    "{date} (revision {revision}): whatever was recorded since is lost."
                ).format(
                    database=database.check().database,
                    date=format_datetime(created),
                    revision=revision,
                )
            )
            try:
                typed = input(_("Type the backup's revision id to restore it: "))
            except EOFError:
                typed = ""
            if typed.strip() != revision:
                raise CliError(_("That is not {revision}: nothing was restored.").format(
                    revision=revision))  # fmt: skip
        result = backups.restore(
            database.url, backups.console_actor(), path, on_progress=_progress_lines()
        )
    except backups.BackupError as error:
        raise CliError(error.describe(_)) from None
    print(
        _("Restored {file} in {seconds:.1f} s: the database is at revision {revision}, "
          "{rows} rows.").format(file=path.name, seconds=result.seconds,
                                 revision=result.revision, rows=format_number(result.total_rows))
    )  # fmt: skip
    if result.differences:
        print(_("Row counts differ from the backup's in: {tables}").format(
            tables=", ".join(result.differences)), file=sys.stderr)  # fmt: skip
        return 1
    if result.expected_counts:
        print(_("Every table holds as many rows as when it was backed up."))
    if result.revision != result.head:
        print(_("This program needs revision {head}: run `clinic-tui db upgrade`.").format(
            head=result.head))  # fmt: skip
    return 0


def _progress_lines() -> Callable[[int, int, str], None]:
    """Progress as a line every tenth of the way (a log, not a redrawn bar)."""
    last = -1

    def show(done: int, total: int, what: str) -> None:
        nonlocal last
        percent = done * 100 // max(total, 1)
        if percent // 10 != last // 10:
            last = percent
            print(f"  {percent:3d} %  {what}".rstrip(), flush=True)

    return show


_DB_COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "url": _db_url,
    "current": _db_current,
    "upgrade": _db_upgrade,
    "downgrade": _db_downgrade,
    "history": _db_history,
    "verify": _db_verify,
    "backup": _db_backup,
    "restore": _db_restore,
}
