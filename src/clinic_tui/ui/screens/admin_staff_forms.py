"""The staff tab's dialogs: a new account, a new password, a role. Each problem is explained at
its field in the current language; what was typed stays when something is refused."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from clinic_tui.cli import describe_database_error
from clinic_tui.i18n import N_, _
from clinic_tui.services.access import ROLE_LABELS, Role
from clinic_tui.services.auth import AccountProblem
from clinic_tui.ui.screens.first_run import ACCOUNT_PROBLEMS
from clinic_tui.ui.widgets.fields import ChoiceField, Field

if TYPE_CHECKING:
    from clinic_tui.services.staff import StaffMember

ROLE_CHOICES = [(ROLE_LABELS[role], role.value) for role in
                (Role.RECEPTIONIST, Role.DOCTOR, Role.ADMIN)]  # fmt: skip
CHOOSE_ROLE = N_("Choose a role.")
AT_LEAST = N_("At least 10 characters.")


class StaffDialog(ModalScreen["StaffMember | None"]):
    """A form over the staff service: the worker runs the change, problems come back to the
    fields, success closes the dialog with the account as it is now."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", N_("Cancel"), id="staff_dialog.cancel"),
    ]
    FIELDS: ClassVar[dict[str, str]] = {}  # service field name → Field id
    SUBMIT = N_("Save")

    class Done(Message):
        def __init__(self, member: StaffMember) -> None:
            super().__init__()
            self.member = member

    class Invalid(Message):
        def __init__(self, problems: dict[str, AccountProblem]) -> None:
            super().__init__()
            self.problems = problems

    class Failed(Message):
        def __init__(self, msgid: str | None, text: str = "", **values: object) -> None:
            super().__init__()
            self.msgid, self.text, self.values = msgid, text, values

    def __init__(self) -> None:
        super().__init__(classes="staff-dialog")
        self._error: tuple[str | None, str, dict[str, object]] | None = None
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="staff-dialog-panel"):
            yield Static(classes="panel-title staff-dialog-title")
            yield from self.compose_fields()
            yield Static(classes="staff-dialog-error")
            with Horizontal(classes="choices"):
                yield Button(id="staff-dialog-submit", variant="primary")
                yield Button(id="staff-dialog-cancel")

    def compose_fields(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.relabel()
        self.query(Input).first().focus()

    def title_text(self) -> str:
        return ""

    def relabel(self) -> None:
        self.query_one(".staff-dialog-title", Static).update(self.title_text())
        for field in self.query(Field):
            field.relabel()
        for choice in self.query(ChoiceField):
            choice.relabel()
        self.query_one("#staff-dialog-submit", Button).label = _(self.SUBMIT)
        self.query_one("#staff-dialog-cancel", Button).label = _("Cancel")
        self._render_error()

    def _render_error(self) -> None:
        text = ""
        if self._error is not None:
            msgid, raw, values = self._error
            text = _(msgid).format(**values) if msgid else raw
        self.query_one(".staff-dialog-error", Static).update(text)

    def values(self) -> dict[str, str]:
        values = {field.field_id: field.value for field in self.query(Field)}
        values.update({choice.field_id: choice.value for choice in self.query(ChoiceField)})
        return values

    def show_problems(self, problems: dict[str, str | None]) -> None:
        """`problems`: service field name → msgid (fields not named are cleared)."""
        for name, field_id in self.FIELDS.items():
            widget = self.query_one(f"#field-{field_id}")
            widget.show_error(problems.get(name))  # type: ignore[attr-defined]

    def account_problems(self, problems: dict[str, AccountProblem]) -> dict[str, str | None]:
        return {name: ACCOUNT_PROBLEMS[problem] for name, problem in problems.items()}

    # ---- submitting ---------------------------------------------------------------------

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        if inputs and event.input is inputs[-1]:
            self.submit()
        else:
            self.focus_next()

    @on(Button.Pressed, "#staff-dialog-submit")
    def _submit_pressed(self) -> None:
        self.submit()

    def submit(self) -> None:
        if self._busy:
            return
        problems = self.check(self.values())
        self.show_problems(problems)
        self._error = None
        self._render_error()
        if not any(problems.values()):
            self._busy = True
            self.run_service(self.values())

    def check(self, values: dict[str, str]) -> dict[str, str | None]:
        """Problems found before asking the database."""
        return {}

    def run_service(self, values: dict[str, str]) -> None:
        raise NotImplementedError

    def call_service(self, operation: str, *args: object, **kwargs: object) -> None:
        """In a worker: the staff service's `operation`, answered with a message."""
        from clinic_tui.services import staff
        from clinic_tui.services.auth import AccountError

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                run = getattr(staff, operation)
                member = run(session, self.app.actor, *args, **kwargs)  # type: ignore[attr-defined]
        except AccountError as error:
            self.post_message(self.Invalid(error.problems))
            return
        except staff.StaffRefused as refusal:
            self.post_message(self.Failed(refusal.msgid, name=refusal.name))
            return
        except Exception as error:
            self.post_message(self.Failed(None, describe_database_error(error)))
            return
        self.post_message(self.Done(member))

    @on(Done)
    def _done(self, message: Done) -> None:
        self.dismiss(message.member)

    @on(Invalid)
    def _invalid(self, message: Invalid) -> None:
        self._busy = False
        problems = self.account_problems(message.problems)
        self.show_problems(problems)
        form = message.problems.get("form")
        if form is not None:
            self._error = (ACCOUNT_PROBLEMS[form], "", {})
            self._render_error()

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self._busy = False
        self._error = (message.msgid, message.text, message.values)
        self._render_error()

    @on(Button.Pressed, "#staff-dialog-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class NewStaffDialog(StaffDialog):
    FIELDS: ClassVar[dict[str, str]] = {
        "full_name": "staff-name", "email": "staff-email", "role": "staff-role",
        "password": "staff-password", "password_again": "staff-password-again",
    }  # fmt: skip
    SUBMIT = N_("Create account")

    def compose_fields(self) -> ComposeResult:
        yield Field(N_("Full name"), "staff-name", max_length=200)
        yield Field(N_("Email"), "staff-email", max_length=254)
        yield ChoiceField(N_("Role"), "staff-role", ROLE_CHOICES)
        yield Field(N_("Initial password"), "staff-password", password=True, max_length=200,
                    placeholder=AT_LEAST)  # fmt: skip
        yield Field(N_("Password again"), "staff-password-again", password=True, max_length=200)

    def title_text(self) -> str:
        return _("New staff account")

    def check(self, values: dict[str, str]) -> dict[str, str | None]:
        from clinic_tui.services.auth import validate_account

        problems: dict[str, str | None] = dict(self.account_problems(validate_account(
            values["staff-name"], values["staff-email"],
            values["staff-password"], values["staff-password-again"],
        )))  # fmt: skip
        if not values["staff-role"]:
            problems["role"] = CHOOSE_ROLE
        return problems

    def run_service(self, values: dict[str, str]) -> None:
        self._create(values)

    @work(thread=True, exclusive=True, group="staff-create", exit_on_error=False)
    def _create(self, values: dict[str, str]) -> None:
        self.call_service(
            "create_staff",
            full_name=values["staff-name"],
            email=values["staff-email"],
            role=values["staff-role"],
            password=values["staff-password"],
            password_again=values["staff-password-again"],
        )


class PasswordDialog(StaffDialog):
    FIELDS: ClassVar[dict[str, str]] = {
        "password": "staff-new-password", "password_again": "staff-new-password-again",
    }  # fmt: skip
    SUBMIT = N_("Set password")

    def __init__(self, member: StaffMember) -> None:
        super().__init__()
        self.member = member

    def compose_fields(self) -> ComposeResult:
        yield Static(classes="dialog-hint staff-dialog-hint")
        yield Field(N_("New password"), "staff-new-password", password=True, max_length=200,
                    placeholder=AT_LEAST)  # fmt: skip
        yield Field(N_("Password again"), "staff-new-password-again", password=True,
                    max_length=200)  # fmt: skip

    def title_text(self) -> str:
        return _("New password for {name}").format(name=self.member.full_name)

    def relabel(self) -> None:
        super().relabel()
        self.query_one(".staff-dialog-hint", Static).update(
            _("The account is unlocked too. The old password stops working at once.")
        )

    def run_service(self, values: dict[str, str]) -> None:
        self._reset(values)

    @work(thread=True, exclusive=True, group="staff-password", exit_on_error=False)
    def _reset(self, values: dict[str, str]) -> None:
        self.call_service("reset_password", self.member.id, values["staff-new-password"],
                          values["staff-new-password-again"])  # fmt: skip


class RoleDialog(ModalScreen[Role | None]):
    """Choose the account's new role; the panel makes the change and reports the outcome."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", N_("Cancel"), id="staff_role.cancel"),
    ]

    def __init__(self, member: StaffMember) -> None:
        super().__init__(classes="staff-dialog")
        self.member = member

    def compose(self) -> ComposeResult:
        with Vertical(classes="staff-dialog-panel"):
            yield Static(classes="panel-title staff-dialog-title")
            yield ChoiceField(N_("Role"), "staff-new-role", ROLE_CHOICES)
            yield Static(classes="dialog-hint staff-dialog-hint")
            with Horizontal(classes="choices"):
                yield Button(id="staff-role-submit", variant="primary")
                yield Button(id="staff-role-cancel")

    def on_mount(self) -> None:
        self.query_one(ChoiceField).set_value(self.member.role.value)
        self.relabel()
        self.query_one("#staff-new-role").focus()

    def relabel(self) -> None:
        self.query_one(".staff-dialog-title", Static).update(
            _("Role of {name}").format(name=self.member.full_name)
        )
        self.query_one(ChoiceField).relabel()
        self.query_one(".staff-dialog-hint", Static).update(
            _("The new role applies from this person's next sign-in.")
        )
        self.query_one("#staff-role-submit", Button).label = _("Change role")
        self.query_one("#staff-role-cancel", Button).label = _("Cancel")

    @on(Button.Pressed, "#staff-role-submit")
    def _submit(self) -> None:
        value: Any = self.query_one(ChoiceField).value
        self.dismiss(Role(value) if value else None)

    @on(Button.Pressed, "#staff-role-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
