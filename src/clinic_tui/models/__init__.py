"""SQLAlchemy models, one module per area, over one declarative base.

Importing this package registers every table on `Base.metadata` (Alembic's comparison and
the drift test rely on it).
"""

from clinic_tui.models.audit import AuditEntry
from clinic_tui.models.base import Base
from clinic_tui.models.billing import Invoice, InvoiceCounter, InvoiceLineItem, Payment, ServiceCode
from clinic_tui.models.clinical import (
    ClinicalProtocol,
    DischargePlan,
    DischargeSummary,
    OutcomeMeasure,
    OutcomeMeasureDefinition,
    PatientProtocol,
    TreatmentPlan,
    TreatmentSession,
)
from clinic_tui.models.insurance import (
    BhytBenefitLevel,
    BhytObjectCodeLevel,
    BhytProvince,
    BhytValidationRule,
)
from clinic_tui.models.people import Doctor, InsuranceInfo, Patient, User
from clinic_tui.models.scheduling import (
    Appointment,
    DoctorAvailability,
    ScheduleException,
    VisitChecklistItem,
    VisitChecklistResponse,
    VisitChecklistTemplate,
    WeeklyScheduleTemplate,
)
from clinic_tui.models.settings import ClinicSetting, DatedSetting
from clinic_tui.models.telehealth import TwilioWebhookEvent, VideoCallEvent, VideoCallSession
from clinic_tui.models.terminology import MedicalTerm

__all__ = [
    "Appointment",
    "AuditEntry",
    "Base",
    "BhytBenefitLevel",
    "BhytObjectCodeLevel",
    "BhytProvince",
    "BhytValidationRule",
    "ClinicSetting",
    "ClinicalProtocol",
    "DatedSetting",
    "DischargePlan",
    "DischargeSummary",
    "Doctor",
    "DoctorAvailability",
    "InsuranceInfo",
    "Invoice",
    "InvoiceCounter",
    "InvoiceLineItem",
    "MedicalTerm",
    "OutcomeMeasure",
    "OutcomeMeasureDefinition",
    "Patient",
    "PatientProtocol",
    "Payment",
    "ScheduleException",
    "ServiceCode",
    "TreatmentPlan",
    "TreatmentSession",
    "TwilioWebhookEvent",
    "User",
    "VideoCallEvent",
    "VideoCallSession",
    "VisitChecklistItem",
    "VisitChecklistResponse",
    "VisitChecklistTemplate",
    "WeeklyScheduleTemplate",
]
