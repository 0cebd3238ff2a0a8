"""Sign in: email and password; F2 switches the language here too."""

from __future__ import annotations

from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Input, Static

from clinic_tui.config import CLINIC_TIMEZONE
from clinic_tui.i18n import N_, _, format_datetime
from clinic_tui.services.access import LoginOutcome, LoginProblem, Role
from clinic_tui.services.status import DatabaseStatus, SchemaState
from clinic_tui.ui.widgets.fields import Field
from clinic_tui.ui.widgets.footer import ClinicFooter
from clinic_tui.ui.widgets.header import ClinicHeader

PROBLEMS = {
    LoginProblem.BAD_CREDENTIALS: N_("Wrong email or password."),
    LoginProblem.LOCKED: N_("Too many failed attempts. The account is locked until {until}."),
    LoginProblem.INACTIVE: N_("This account is deactivated. Ask an administrator."),
    LoginProblem.NOT_STAFF: N_("Patient accounts cannot sign in at the front desk."),
}
DEMO_NOTE = N_(
    "Demo accounts: admin@demo.clinic, reception@demo.clinic, doctor@demo.clinic — "
    "password: demo-clinic"
)


class LoginScreen(Screen[None]):
    class Attempted(Message):
        def __init__(self, outcome: LoginOutcome) -> None:
            super().__init__()
            self.outcome = outcome

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self) -> None:
        super().__init__(id="login")
        self._notice: tuple[str, dict[str, object]] | None = None
        self._busy = False

    def compose(self) -> ComposeResult:
        yield ClinicHeader()
        with Center(), Vertical(id="login-panel"):
            yield Static(id="login-title")
            yield Field(N_("Email"), "email", placeholder=N_("name@clinic.vn"), max_length=254)
            yield Field(N_("Password"), "password", password=True, max_length=200)
            yield Button(id="sign-in", variant="primary")
            yield Static(id="login-notice")
            yield Static(id="login-demo")
        yield ClinicFooter()

    def on_mount(self) -> None:
        self.relabel()
        self.query_one("#email", Input).focus()
        self.database_known(getattr(self.app, "status", None))

    def relabel(self) -> None:
        self.query_one("#login-title", Static).update(_("Sign in to the front desk"))
        self.query_one("#sign-in", Button).label = _("Sign in")
        for field in self.query(Field):
            field.relabel()
        for header in self.query(ClinicHeader):
            header.relabel()
        self._render_notice()
        status: DatabaseStatus | None = getattr(self.app, "status", None)
        demo = _(DEMO_NOTE) if status is not None and status.has_demo_accounts else ""
        self.query_one("#login-demo", Static).update(demo)

    def database_known(self, status: DatabaseStatus | None) -> None:
        if status is not None and status.schema is SchemaState.BEHIND:
            self.show_notice(
                N_(
                    "The database must be upgraded to this version of the program. "
                    "Only an administrator may sign in now."
                )
            )
        elif status is not None and status.schema is SchemaState.UNKNOWN:
            self.show_notice(
                N_(
                    "The database was written by a newer version of this program. "
                    "Install that version to continue."
                )
            )
        self.relabel()

    def show_notice(self, msgid: str | None, **values: object) -> None:
        self._notice = (msgid, values) if msgid else None
        self._render_notice()

    def _render_notice(self) -> None:
        text = _(self._notice[0]).format(**self._notice[1]) if self._notice else ""
        self.query_one("#login-notice", Static).update(text)

    @on(Input.Submitted, "#email")
    def _next_field(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#sign-in")
    def _submit(self) -> None:
        if self._busy:
            return
        if getattr(self.app, "database", None) is None:
            self.show_notice(N_("Still connecting to the database…"))
            return
        email = self.query_one("#email", Input).value
        password = self.query_one("#password", Input).value
        if not email.strip() or not password:
            self.show_notice(N_("Enter your email and password."))
            return
        self._busy = True
        self.show_notice(N_("Signing in…"))
        status: DatabaseStatus | None = getattr(self.app, "status", None)
        self._sign_in(email, password, status is None or status.schema is SchemaState.CURRENT)

    @work(thread=True, exclusive=True, group="login", exit_on_error=False)
    def _sign_in(self, email: str, password: str, schema_current: bool) -> None:
        from clinic_tui.services import auth

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                outcome = auth.login(session, email, password, schema_current=schema_current)
        except Exception as error:  # the database went away: keep what was typed
            from clinic_tui.cli import describe_unavailable
            from clinic_tui.db.engine import classify_error

            self.post_message(self.Failed(describe_unavailable(classify_error(error))))
            return
        self.post_message(self.Attempted(outcome))

    def show_text(self, text: str) -> None:
        """An already translated message (e.g. from the connection attempt)."""
        self._notice = None
        self.query_one("#login-notice", Static).update(text)

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self._busy = False
        self.show_text(message.text)

    @on(Attempted)
    def _attempted(self, message: Attempted) -> None:
        self._busy = False
        outcome = message.outcome
        if outcome.actor is None:
            problem = outcome.problem or LoginProblem.BAD_CREDENTIALS
            until = _local(outcome.locked_until) if outcome.locked_until else ""
            self.show_notice(PROBLEMS[problem], until=until)
            password = self.query_one("#password", Input)
            password.value = ""
            password.focus()
            return
        status: DatabaseStatus | None = getattr(self.app, "status", None)
        if (
            status is not None
            and status.schema is SchemaState.BEHIND
            and (outcome.actor.role is not Role.ADMIN)
        ):
            self.show_notice(N_("The database must be upgraded by an administrator first."))
            return
        self.app.signed_in(outcome.actor)  # type: ignore[attr-defined]


def _local(moment: datetime) -> str:
    return format_datetime(moment.astimezone(CLINIC_TIMEZONE))
