"""First run: migrate an empty database with progress, then create the first administrator
or load a demo clinic."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, ContentSwitcher, Input, ProgressBar, Static

from clinic_tui.cli import describe_database_error
from clinic_tui.i18n import N_, _
from clinic_tui.services import auth, setup
from clinic_tui.services.access import Actor
from clinic_tui.services.auth import AccountError, AccountProblem
from clinic_tui.services.status import DatabaseStatus, SchemaState
from clinic_tui.ui.widgets.fields import Field
from clinic_tui.ui.widgets.footer import ClinicFooter
from clinic_tui.ui.widgets.header import ClinicHeader
from clinic_tui.ui.widgets.migration_progress import MigrationProgress

ACCOUNT_PROBLEMS = {
    AccountProblem.NAME_REQUIRED: N_("Enter a name."),
    AccountProblem.EMAIL_INVALID: N_("Enter a valid email address."),
    AccountProblem.EMAIL_TAKEN: N_("An account with this email already exists."),
    AccountProblem.PASSWORD_TOO_SHORT: N_("At least 10 characters."),
    AccountProblem.PASSWORDS_DIFFER: N_("The two passwords differ."),
    AccountProblem.ALREADY_SET_UP: N_("An administrator already exists: sign in instead."),
}


class FirstRunScreen(Screen[None]):
    class Progress(Message):
        def __init__(self, done: int, total: int, line: str) -> None:
            super().__init__()
            self.done, self.total, self.line = done, total, line

    class Migrated(Message):
        pass

    class AdminCreated(Message):
        def __init__(self, actor: Actor) -> None:
            super().__init__()
            self.actor = actor

    class AccountInvalid(Message):
        def __init__(self, problems: dict[str, AccountProblem]) -> None:
            super().__init__()
            self.problems = problems

    class DemoProgress(Message):
        def __init__(self, fraction: float) -> None:
            super().__init__()
            self.fraction = fraction

    class DemoLoaded(Message):
        pass

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, status: DatabaseStatus) -> None:
        super().__init__(id="first-run")
        self.status = status

    def compose(self) -> ComposeResult:
        yield ClinicHeader()
        with VerticalScroll(id="first-run-panel"):
            yield Static(id="first-run-title")
            yield Static(id="first-run-text")
            with ContentSwitcher(initial="pane-migrate"):
                with Vertical(id="pane-migrate"):
                    yield MigrationProgress()
                with Vertical(id="pane-choose"), Horizontal(classes="choices"):
                    yield Button(id="choose-admin", variant="primary")
                    yield Button(id="choose-demo")
                with Vertical(id="pane-admin"):
                    yield Field(N_("Full name"), "admin-name", max_length=200)
                    yield Field(N_("Email"), "admin-email", max_length=254)
                    yield Field(
                        N_("Password (at least 10 characters)"),
                        "admin-password",
                        password=True,
                        max_length=200,
                    )
                    yield Field(
                        N_("Password again"), "admin-password-again", password=True, max_length=200
                    )
                    with Horizontal(classes="choices"):
                        yield Button(id="create-admin", variant="primary")
                        yield Button(id="back-to-choice")
                with Vertical(id="pane-demo"):
                    yield ProgressBar(total=100, show_eta=False, id="demo-bar")
            yield Static(id="first-run-error")
        yield ClinicFooter()

    def on_mount(self) -> None:
        self._pane = "pane-migrate"
        self._error: str | None = None
        if self.status.schema is SchemaState.EMPTY:
            self._migrate()
        else:
            self._show("pane-choose")
        self.relabel()

    # ---- texts ------------------------------------------------------------------------

    def relabel(self) -> None:
        titles = {
            "pane-migrate": (
                N_("Preparing the database"),
                N_("Creating the tables and loading the reference data…"),
            ),
            "pane-choose": (
                N_("Welcome"),
                N_(
                    "The database is ready. Create the first administrator account, "
                    "or load a demo clinic to try the program."
                ),
            ),
            "pane-admin": (
                N_("Create the first administrator"),
                N_("This account can create the other staff accounts."),
            ),
            "pane-demo": (
                N_("Loading a demo clinic"),
                N_("Creating doctors, schedules, patients and appointments…"),
            ),
        }
        title, text = titles[self._pane]
        self.query_one("#first-run-title", Static).update(_(title))
        self.query_one("#first-run-text", Static).update(_(text))
        self.query_one("#choose-admin", Button).label = _("Create the first administrator")
        self.query_one("#choose-demo", Button).label = _("Load a demo clinic")
        self.query_one("#create-admin", Button).label = _("Create")
        self.query_one("#back-to-choice", Button).label = _("Back")
        self.query_one("#first-run-error", Static).update(self._error or "")
        for field in self.query(Field):
            field.relabel()
        for header in self.query(ClinicHeader):
            header.relabel()

    def _show(self, pane: str) -> None:
        self._pane = pane
        self.query_one(ContentSwitcher).current = pane
        self.relabel()
        focus = {"pane-choose": "#choose-admin", "pane-admin": "#admin-name"}.get(pane)
        if focus:
            self.query_one(focus).focus()

    def _fail(self, text: str) -> None:
        self._error = text
        self.query_one("#first-run-error", Static).update(text)

    # ---- migrating ----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="first-run", exit_on_error=False)
    def _migrate(self) -> None:
        url = self.app.database.url  # type: ignore[attr-defined]
        try:
            setup.migrate_to_head(
                url, lambda done, total, rev: self.post_message(self.Progress(done, total, rev))
            )
        except Exception as error:
            self.post_message(
                self.Failed(
                    _("The database could not be prepared: {error}").format(
                        error=str(error).splitlines()[0]
                    )
                )
            )
            return
        self.post_message(self.Migrated())

    @on(Progress)
    def _progress(self, message: Progress) -> None:
        line = f"✓ {message.line}" if message.done else ""
        self.query_one(MigrationProgress).step(message.done, message.total, line)

    @on(Migrated)
    def _migrated(self) -> None:
        status = self.app.status  # type: ignore[attr-defined]
        if status is not None:
            self.app.schema_moved(status.head)  # type: ignore[attr-defined]
        self._show("pane-choose")

    # ---- first administrator ------------------------------------------------------------

    @on(Button.Pressed, "#choose-admin")
    def _choose_admin(self) -> None:
        self._show("pane-admin")

    @on(Button.Pressed, "#back-to-choice")
    def _back(self) -> None:
        self._show("pane-choose")

    @on(Input.Submitted, "#admin-name, #admin-email, #admin-password")
    def _next(self) -> None:
        self.focus_next()

    @on(Input.Submitted, "#admin-password-again")
    @on(Button.Pressed, "#create-admin")
    def _create(self) -> None:
        values = {field.field_id: field.value for field in self.query(Field)}
        problems = auth.validate_account(
            values["admin-name"],
            values["admin-email"],
            values["admin-password"],
            values["admin-password-again"],
        )
        self._show_problems(problems)
        if not problems:
            self._create_admin(values)

    def _show_problems(self, problems: dict[str, AccountProblem]) -> None:
        names = {
            "full_name": "admin-name",
            "email": "admin-email",
            "password": "admin-password",
            "password_again": "admin-password-again",
        }
        for key, field_id in names.items():
            problem = problems.get(key)
            self.query_one(f"#field-{field_id}", Field).show_error(
                ACCOUNT_PROBLEMS[problem] if problem else None
            )
        form_problem = problems.get("form")
        if form_problem is not None:
            self._fail(_(ACCOUNT_PROBLEMS[form_problem]))

    @work(thread=True, exclusive=True, group="first-run", exit_on_error=False)
    def _create_admin(self, values: dict[str, str]) -> None:
        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                actor = auth.create_first_admin(
                    session,
                    values["admin-name"],
                    values["admin-email"],
                    values["admin-password"],
                    values["admin-password-again"],
                )
        except AccountError as error:
            self.post_message(self.AccountInvalid(error.problems))
            return
        except Exception as error:
            self.post_message(self.Failed(describe_database_error(error)))
            return
        self.post_message(self.AdminCreated(actor))

    @on(AccountInvalid)
    def _invalid(self, message: AccountInvalid) -> None:
        self._show_problems(message.problems)

    @on(AdminCreated)
    def _created(self, message: AdminCreated) -> None:
        self.app.signed_in(message.actor)  # type: ignore[attr-defined]

    # ---- demo clinic ------------------------------------------------------------------

    @on(Button.Pressed, "#choose-demo")
    def _choose_demo(self) -> None:
        self._show("pane-demo")
        self._load_demo()

    @work(thread=True, exclusive=True, group="first-run", exit_on_error=False)
    def _load_demo(self) -> None:
        from clinic_tui.services.demo import build_demo_clinic

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                build_demo_clinic(
                    session,
                    progress=lambda _text, fraction: self.post_message(self.DemoProgress(fraction)),
                )
        except Exception as error:
            self.post_message(self.Failed(describe_database_error(error)))
            return
        self.post_message(self.DemoLoaded())

    @on(DemoProgress)
    def _demo_progress(self, message: DemoProgress) -> None:
        self.query_one("#demo-bar", ProgressBar).update(progress=round(message.fraction * 100))

    @on(DemoLoaded)
    def _demo_loaded(self) -> None:
        self.app.first_run_finished()  # type: ignore[attr-defined]

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self._fail(message.text)
