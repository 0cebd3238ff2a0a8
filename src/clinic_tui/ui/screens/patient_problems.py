"""What each patient-form problem says, in the current language."""

from __future__ import annotations

from clinic_tui.i18n import N_

DATE_HINTS = {"vi": "dd/mm/yyyy", "en": "mm/dd/yyyy"}

# Keyed by forms.patient.PatientProblem values; the form module loads only when needed.
PROBLEMS = {
    "required": N_("Required."),
    "name_too_long": N_("Too long: at most 200 characters."),
    "text_too_long": N_("Too long."),
    "date_format": N_("Not a date: type it as {hint}."),
    "date_in_future": N_("This date is in the future."),
    "date_too_old": N_("This date is before 1900."),
    "gender": N_("Choose male, female or other."),
    "phone_format": N_("Not a Vietnamese phone number (mobile 10 digits, landline 11)."),
    "email_format": N_("Not an email address."),
    "national_id_format": N_("A citizen ID (CCCD) has 12 digits."),
    "card_too_short": N_("Too short: a card has 15 characters."),
    "card_too_long": N_("Too long: a card has 15 characters."),
    "card_object_code_unknown": N_("Unknown object code."),
    "card_object_code_format": N_("The first two characters must be letters."),
    "card_level": N_("The benefit level (3rd character) must be 1 to 5."),
    "card_province": N_("Characters 4–5 are not an issuing province code."),
    "card_number": N_("The last 10 characters must be digits."),
    "card_parts_required": N_("Enter the object code, level and province of this card."),
    "valid_dates": N_("Valid to is before valid from."),
    "invalid": N_("This value cannot be used."),
}


def problem_message(problem: object) -> str:
    """The msgid for a problem code (translate with _() at display)."""
    return PROBLEMS.get(str(problem), PROBLEMS["invalid"])
