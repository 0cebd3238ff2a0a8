"""The staff tab: every staff account with its role and state; create an account, deactivate
or reactivate one, reset a password, unlock, change a role. The service's refusals (the last
active administrator, one's own account) are shown in words above the list."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable, Static

from clinic_tui.cli import describe_database_error
from clinic_tui.config import CLINIC_TIMEZONE
from clinic_tui.i18n import N_, _, format_datetime, format_number
from clinic_tui.services.access import ROLE_LABELS, Role
from clinic_tui.ui.screens.admin import AdminPanel

if TYPE_CHECKING:
    from clinic_tui.services.staff import StaffMember, StaffRefused

DONE = {
    "deactivate": N_("{name} is deactivated: this account can no longer sign in."),
    "reactivate": N_("{name} is active again and may sign in."),
    "unlock": N_("{name} is unlocked and may sign in now."),
    "change_role": N_("{name} is now: {role}."),
    "reset_password": N_("A new password is set for {name}. Tell them in person."),
    "create_staff": N_("Account created for {name}."),
}


def local_time(moment: datetime) -> str:
    return format_datetime(moment.astimezone(CLINIC_TIMEZONE))


def status_text(member: StaffMember, now: datetime) -> str:
    """Words, not colours: "active", "inactive", "locked until …" (both when both)."""
    parts = [_("active") if member.is_active else _("inactive")]
    if member.locked_at(now) and member.locked_until is not None:
        locked = _("locked until {time}").format(time=local_time(member.locked_until))
        parts = [locked] if member.is_active else [*parts, locked]
    return " · ".join(parts)


class StaffPanel(AdminPanel):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_staff", N_("New account"), id="staff.new"),
        Binding("d", "toggle_active", N_("Deactivate / reactivate"), id="staff.active"),
        Binding("p", "reset_password", N_("Reset password"), id="staff.password"),
        Binding("u", "unlock", N_("Unlock"), id="staff.unlock"),
        Binding("o", "change_role", N_("Change role"), id="staff.role"),
        Binding("r", "reload", N_("Refresh"), id="staff.reload", show=False),
    ]

    class Loaded(Message):
        def __init__(self, members: list[StaffMember]) -> None:
            super().__init__()
            self.members = members

    class Changed(Message):
        def __init__(self, operation: str, member: StaffMember) -> None:
            super().__init__()
            self.operation, self.member = operation, member

    class Refused(Message):
        def __init__(self, refusal: StaffRefused) -> None:
            super().__init__()
            self.refusal = refusal

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.members: list[StaffMember] = []
        self._select_after_load: uuid.UUID | None = None
        # What the status line says: a msgid and its values (translated when shown), or a
        # sentence already in words (a database error), and whether it is a refusal.
        self._status: tuple[str, dict[str, object], bool] | None = None
        self._status_text: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="staff-title", classes="panel-title")
        yield Static(id="staff-status")
        yield DataTable(id="staff-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.relabel()

    def shown(self) -> None:
        self._load()
        self.query_one("#staff-table", DataTable).focus()

    # ---- texts ------------------------------------------------------------------------

    def relabel(self) -> None:
        self.query_one("#staff-title", Static).update(_("Staff accounts"))
        self._render_status()
        self._render_table()

    def _render_table(self) -> None:
        table = self.query_one("#staff-table", DataTable)
        selected = self.selected()
        table.clear(columns=True)
        for key, label in (
            ("name", N_("Name")), ("email", N_("Email")), ("role", N_("Role")),
            ("status", N_("Status")), ("last_login", N_("Last sign-in")),
            ("failed", N_("Failed attempts")),
        ):  # fmt: skip
            table.add_column(_(label), key=key)
        now = datetime.now(UTC)
        me = getattr(self.app.actor, "user_id", None)  # type: ignore[attr-defined]
        for member in self.members:
            name = member.full_name + (" " + _("(you)") if member.id == me else "")
            table.add_row(
                Text(name, style="" if member.is_active else "dim"),
                member.email,
                _(ROLE_LABELS[member.role]),
                status_text(member, now),
                local_time(member.last_login_at) if member.last_login_at else _("never"),
                format_number(member.failed_login_count),
                key=str(member.id),
            )
        if selected is not None:
            self.select(selected.id)

    def _set_status(self, msgid: str | None, *, error: bool = False, **values: object) -> None:
        self._status = (msgid, values, error) if msgid else None
        self._status_text = None
        self._render_status()

    def _set_status_text(self, text: str) -> None:
        self._status, self._status_text = None, text
        self._render_status()

    def _render_status(self) -> None:
        line = self.query_one("#staff-status", Static)
        if self._status_text is not None:
            line.update(Text(self._status_text, style="bold red"))
            return
        if self._status is None:
            line.update("")
            return
        msgid, values, error = self._status
        shown = {k: _(ROLE_LABELS[v]) if isinstance(v, Role) else v for k, v in values.items()}
        line.update(Text(_(msgid).format(**shown), style="bold red" if error else "bold"))

    # ---- the selected row --------------------------------------------------------------

    def selected(self) -> StaffMember | None:
        table = self.query_one("#staff-table", DataTable)
        if not table.row_count or not table.is_valid_row_index(table.cursor_row):
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return next((m for m in self.members if str(m.id) == key), None)

    def select(self, user_id: uuid.UUID) -> None:
        table = self.query_one("#staff-table", DataTable)
        try:
            table.move_cursor(row=table.get_row_index(str(user_id)))
        except Exception:  # the account is no longer listed
            return

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("toggle_active", "reset_password", "unlock", "change_role"):
            return self.selected() is not None
        return True

    @on(DataTable.RowHighlighted, "#staff-table")
    def _highlighted(self) -> None:
        self.screen.refresh_bindings()

    # ---- loading -----------------------------------------------------------------------

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="staff-load", exit_on_error=False)
    def _load(self) -> None:
        from clinic_tui.services import staff

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                members = staff.list_staff(session, self.app.actor)  # type: ignore[attr-defined]
        except Exception as error:
            self.post_message(self.Failed(describe_database_error(error)))
            return
        self.post_message(self.Loaded(members))

    @on(Loaded)
    def _loaded_members(self, message: Loaded) -> None:
        self.members = message.members
        self._render_table()
        if self._select_after_load is not None:
            self.select(self._select_after_load)
            self._select_after_load = None
        self.screen.refresh_bindings()

    # ---- changes -----------------------------------------------------------------------

    def action_new_staff(self) -> None:
        from clinic_tui.ui.screens.admin_staff_forms import NewStaffDialog

        self.app.push_screen(NewStaffDialog(), self._after_dialog("create_staff"))

    def action_reset_password(self) -> None:
        from clinic_tui.ui.screens.admin_staff_forms import PasswordDialog

        member = self.selected()
        if member is not None:
            self.app.push_screen(PasswordDialog(member), self._after_dialog("reset_password"))

    def _after_dialog(self, operation: str):  # type: ignore[no-untyped-def]
        def done(member: StaffMember | None) -> None:
            if member is not None:
                self._set_status(DONE[operation], name=member.full_name)
                self._load_then_select(member.id)

        return done

    def action_change_role(self) -> None:
        from clinic_tui.ui.screens.admin_staff_forms import RoleDialog

        member = self.selected()
        if member is None:
            return

        def chosen(role: Role | None) -> None:
            if role is not None and role is not member.role:
                self._change("change_role", member.id, role)

        self.app.push_screen(RoleDialog(member), chosen)

    def action_toggle_active(self) -> None:
        from clinic_tui.ui.screens.confirm import ConfirmScreen

        member = self.selected()
        if member is None:
            return
        if member.is_active:
            title, text = (
                N_("Deactivate {name}?"),
                N_(
                    "{name} ({email}) will no longer be able to sign in. Nothing they recorded is "
                    "removed, and the account can be reactivated later."
                ),
            )
            answer = ("deactivate", N_("Deactivate"))
        else:
            title, text = (
                N_("Reactivate {name}?"),
                N_("{name} ({email}) will be able to sign in again with their password."),
            )
            answer = ("reactivate", N_("Reactivate"))

        def answered(choice: str | None) -> None:
            if choice == answer[0]:
                self._change(answer[0], member.id)

        self.app.push_screen(
            ConfirmScreen(
                title,
                text,
                [("cancel", N_("Cancel")), answer],
                name=member.full_name,
                email=member.email,
            ),
            answered,
        )

    def action_unlock(self) -> None:
        member = self.selected()
        if member is not None:
            self._change("unlock", member.id)

    @work(thread=True, exclusive=True, group="staff-change", exit_on_error=False)
    def _change(self, operation: str, user_id: uuid.UUID, *args: object) -> None:
        from clinic_tui.services import staff

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                run = getattr(staff, operation)
                member = run(session, self.app.actor, user_id, *args)  # type: ignore[attr-defined]
        except staff.StaffRefused as refusal:
            self.post_message(self.Refused(refusal))
            return
        except Exception as error:
            self.post_message(self.Failed(describe_database_error(error)))
            return
        self.post_message(self.Changed(operation, member))

    @on(Changed)
    def _changed(self, message: Changed) -> None:
        member = message.member
        self._set_status(DONE[message.operation], name=member.full_name, role=member.role)
        self._load_then_select(member.id)

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        refusal = message.refusal
        self._set_status(refusal.msgid, error=True, name=refusal.name)
        self.app.bell()
        self._load()

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self._set_status_text(message.text)

    def _load_then_select(self, user_id: uuid.UUID) -> None:
        self._select_after_load = user_id
        self._load()
