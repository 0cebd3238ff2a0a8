"""A labelled input with its error line beneath: bad input is explained at the field."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from clinic_tui.i18n import _


class Field(Vertical):
    DEFAULT_CSS = """
    Field { height: auto; margin-bottom: 1; }
    Field > Horizontal { height: auto; }
    Field .field-label { width: 24; color: $text-muted; padding-top: 0; }
    Field Input { width: 1fr; }
    Field > .field-error { color: $text-error; height: auto; padding-left: 24; display: none; }
    Field.-invalid > .field-error { display: block; }
    Field.-invalid Input { background: $error 20%; }
    """

    def __init__(
        self,
        label: str,
        field_id: str,
        *,
        password: bool = False,
        placeholder: str = "",
        max_length: int = 0,
    ) -> None:
        super().__init__(id=f"field-{field_id}")
        self.label_msgid = label
        self.placeholder_msgid = placeholder
        self.field_id = field_id
        self._password = password
        self._max_length = max_length
        self._error_msgid: str | None = None
        self._error_values: dict[str, object] = {}

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(_(self.label_msgid), classes="field-label")
            yield Input(
                id=self.field_id,
                password=self._password,
                compact=True,
                placeholder=_(self.placeholder_msgid) if self.placeholder_msgid else "",
                max_length=self._max_length,
            )
        yield Static("", classes="field-error")

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    @property
    def value(self) -> str:
        return self.input.value

    def show_error(self, msgid: str | None, **values: object) -> None:
        self._error_msgid, self._error_values = msgid, values
        self.set_class(msgid is not None, "-invalid")
        self._render_error()

    def _render_error(self) -> None:
        text = _(self._error_msgid).format(**self._error_values) if self._error_msgid else ""
        self.query_one(".field-error", Static).update(text)

    def relabel(self) -> None:
        self.query_one(".field-label", Label).update(_(self.label_msgid))
        if self.placeholder_msgid:
            self.input.placeholder = _(self.placeholder_msgid)
        self._render_error()


class ChoiceField(Vertical):
    """A labelled drop-down of a few codes, each shown translated."""

    DEFAULT_CSS = """
    ChoiceField { height: auto; margin-bottom: 1; }
    ChoiceField > Horizontal { height: auto; }
    ChoiceField .field-label { width: 24; color: $text-muted; }
    ChoiceField Select { width: 1fr; }
    ChoiceField > .field-error {
        color: $text-error; height: auto; padding-left: 24; display: none;
    }
    ChoiceField.-invalid > .field-error { display: block; }
    """

    def __init__(self, label: str, field_id: str, choices: list[tuple[str, str]]) -> None:
        super().__init__(id=f"field-{field_id}")
        self.label_msgid = label
        self.field_id = field_id
        self.choices = choices  # (msgid, code)
        self._error_msgid: str | None = None

    def compose(self) -> ComposeResult:
        from textual.widgets import Select

        with Horizontal():
            yield Label(_(self.label_msgid), classes="field-label")
            yield Select(
                [(_(label), code) for label, code in self.choices],
                id=self.field_id,
                compact=True,
                prompt="—",
            )
        yield Static("", classes="field-error")

    @property
    def value(self) -> str:
        from textual.widgets import Select

        selected = self.query_one(Select).value
        return "" if selected is Select.NULL else str(selected)

    def set_value(self, code: str | None) -> None:
        from textual.widgets import Select

        select = self.query_one(Select)
        select.value = code if code else Select.NULL

    def show_error(self, msgid: str | None, **values: object) -> None:
        self._error_msgid = msgid
        self.set_class(msgid is not None, "-invalid")
        self.query_one(".field-error", Static).update(_(msgid) if msgid else "")

    def relabel(self) -> None:
        from textual.widgets import Select

        self.query_one(".field-label", Label).update(_(self.label_msgid))
        select = self.query_one(Select)
        current = select.value
        select.set_options([(_(label), code) for label, code in self.choices])
        select.value = current
        self.show_error(self._error_msgid)
