"""The check-in checklist (issue 12 item 3): the items of the checklist in use as checkboxes,
required ones said in words. Space ticks, Ctrl+S (or the button) checks the patient in, Esc
leaves without changing anything. The service decides: a refusal (a required item not ticked,
the checklist or the appointment changed meanwhile) is shown here and the ticks are kept.
A visit already past check-in shows the answers kept with it, read-only.

Dismisses with True once the patient is checked in, False otherwise."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Static

from clinic_tui.i18n import N_, _, current_language
from clinic_tui.ui.widgets import schedule_text as say

if TYPE_CHECKING:
    from clinic_tui.services.checklists import ChecklistEntry, ItemRow, VisitChecklist

REQUIRED = N_("{item} (required)")
NO_LONGER_ASKED = N_("{item} (no longer asked)")
HINT = N_("Space ticks the highlighted item. Items marked required must be ticked to check in.")
NOTHING_IN_USE = N_("No checklist is in use: the patient can be checked in directly.")
ALREADY = N_("This visit is {status}: the answers kept with it are shown.")


def item_text(entry: ChecklistEntry) -> str:
    label = entry.item.label(current_language())
    if not entry.current:
        return _(NO_LONGER_ASKED).format(item=label)
    return _(REQUIRED).format(item=label) if entry.item.required else label


def missing_text(missing: tuple[ItemRow, ...]) -> Callable[[], str]:
    from clinic_tui.services.checklists import ChecklistIncomplete

    return lambda: _(ChecklistIncomplete.msgid).format(
        items=", ".join(item.label(current_language()) for item in missing)
    )


class ChecklistDialog(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "check_in", N_("Check in"), id="checklist.check_in", priority=True),
        Binding("escape", "cancel", N_("Cancel"), id="checklist.cancel"),
        Binding("down", "app.focus_next", N_("Next item"), id="checklist.next", show=False),
        Binding(
            "up", "app.focus_previous", N_("Previous item"), id="checklist.previous", show=False
        ),
    ]

    class Loaded(Message):
        def __init__(self, checklist: VisitChecklist) -> None:
            super().__init__()
            self.checklist = checklist

    class Refused(Message):
        """``missing``: the items to tick; ``reload``: read the checklist again (it changed)."""

        def __init__(self, text: Callable[[], str], *, missing: tuple[ItemRow, ...] = (),
                     reload: bool = False) -> None:  # fmt: skip
            super().__init__()
            self.text, self.missing, self.reload = text, missing, reload

    class CheckedIn(Message):
        pass

    def __init__(self, *, appointment_id: uuid.UUID, patient_name: str,
                 expected_version: int | None = None) -> None:  # fmt: skip
        """``expected_version``: the appointment's version where the visit was picked (the day
        list), so a change made since then is refused; None: as the checklist reads it."""
        super().__init__(classes="checklist-dialog")
        self.appointment_id, self.patient_name = appointment_id, patient_name
        self._version = expected_version
        self.checklist: VisitChecklist | None = None
        self._notice: Callable[[], str] | None = None
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="checklist-panel"):
            yield Static(id="checklist-title", classes="panel-title")
            yield Static(id="checklist-hint", classes="dialog-hint")
            yield VerticalScroll(id="checklist-items", can_focus=False)
            yield Static(id="checklist-notice")
            with Horizontal(classes="choices"):
                yield Button(id="checklist-submit", variant="primary", compact=True)
                yield Button(id="checklist-cancel", compact=True)

    def on_mount(self) -> None:
        self.relabel()
        self.query_one("#checklist-cancel", Button).focus()
        self._load()

    # ---- texts -------------------------------------------------------------------------

    @property
    def can_check_in(self) -> bool:
        return self.checklist is not None and self.checklist.status == "SCHEDULED"

    def relabel(self) -> None:
        title = _("Check-in checklist: {patient}").format(patient=self.patient_name)
        self.query_one("#checklist-title", Static).update(title)
        checklist = self.checklist
        if checklist is None:
            hint = _("Loading…")
        elif not self.can_check_in:
            hint = _(ALREADY).format(status=say.status_name(checklist.status))
        elif not checklist.entries:
            hint = _(NOTHING_IN_USE)
        else:
            hint = _(HINT)
        self.query_one("#checklist-hint", Static).update(hint)
        for entry, box in self._boxes():
            box.label = item_text(entry)
        submit = self.query_one("#checklist-submit", Button)
        submit.label = _("Check in (Ctrl+S)")
        submit.disabled = not self.can_check_in
        self.query_one("#checklist-cancel", Button).label = _("Cancel (Esc)")
        notice = self._notice() if self._notice else ""
        self.query_one("#checklist-notice", Static).update(notice)

    def _say(self, text: Callable[[], str] | None) -> None:
        self._notice = text
        self.relabel()

    def _boxes(self) -> list[tuple[ChecklistEntry, Checkbox]]:
        if self.checklist is None:
            return []
        return [(entry, self.query_one(f"#item-{entry.item.id.hex}", Checkbox))
                for entry in self.checklist.entries]  # fmt: skip

    def ticks(self) -> dict[uuid.UUID, bool]:
        """What is ticked now, by item (the current checklist's items only)."""
        return {entry.item.id: box.value for entry, box in self._boxes() if entry.current}

    # ---- loading -----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="checklist-load", exit_on_error=False)
    def _load(self) -> None:
        from clinic_tui.services import checklists

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                found = checklists.checklist_for(session, self.app.actor,  # type: ignore[attr-defined]
                                                 self.appointment_id)  # fmt: skip
        except Exception as error:
            self.post_message(self.Refused(say.explained(error)))
            return
        self.post_message(self.Loaded(found))

    @on(Loaded)
    async def _loaded(self, message: Loaded) -> None:
        kept = self.ticks()  # typing survives a reload
        checklist = self.checklist = message.checklist
        if self._version is None:
            self._version = checklist.version
        items = self.query_one("#checklist-items", VerticalScroll)
        await items.remove_children()
        read_only = not self.can_check_in
        await items.mount_all(
            Checkbox(
                item_text(entry),
                bool(entry.checked) if read_only else kept.get(entry.item.id, False),
                id=f"item-{entry.item.id.hex}",
                classes="checklist-item" + (" -required" if entry.item.required else ""),
                disabled=read_only,
            )
            for entry in checklist.entries
        )
        self.relabel()
        boxes = [box for _entry, box in self._boxes() if not box.disabled]
        (boxes[0] if boxes else self.query_one("#checklist-cancel", Button)).focus()

    # ---- checking in -------------------------------------------------------------------

    def action_check_in(self) -> None:
        if self._busy or not self.can_check_in or self._version is None:
            return
        self._busy = True
        self._say(lambda: _("Checking in…"))
        self._check_in(self.ticks(), self._version)

    @on(Button.Pressed, "#checklist-submit")
    def _submit_pressed(self) -> None:
        self.action_check_in()

    @work(thread=True, exclusive=True, group="checklist-write", exit_on_error=False)
    def _check_in(self, answers: dict[uuid.UUID, bool], version: int) -> None:
        from clinic_tui.services import checklists
        from clinic_tui.services.appointments import ScheduleConflict

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                checklists.check_in_with_answers(session, self.app.actor,  # type: ignore[attr-defined]
                                                 self.appointment_id, answers,
                                                 expected_version=version)  # fmt: skip
        except checklists.ChecklistIncomplete as refusal:
            self.post_message(self.Refused(missing_text(refusal.missing), missing=refusal.missing))
        except checklists.ChecklistChanged as refusal:
            msgid = refusal.msgid
            self.post_message(self.Refused(lambda: _(msgid), reload=True))
        except Exception as error:
            # Changed meanwhile: show the appointment as it is now (checked in elsewhere?).
            stale = isinstance(error, ScheduleConflict)
            self.post_message(self.Refused(say.explained(error), reload=stale))
        else:
            self.post_message(self.CheckedIn())

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self._busy = False
        self._say(message.text)
        self.app.bell()
        shown = {entry.item.id: box for entry, box in self._boxes()}
        missing = {item.id for item in message.missing}
        for entry, box in self._boxes():
            box.set_class(entry.item.id in missing, "-missing")
        if message.reload or not missing <= set(shown):
            self._version = None
            self._load()
        elif message.missing:
            shown[message.missing[0].id].focus()

    @on(CheckedIn)
    def _checked_in(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#checklist-cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
