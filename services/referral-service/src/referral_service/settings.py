from datetime import timedelta

from pydantic import Field

from casebridge_common.events.contracts.referral import Urgency
from casebridge_common.settings import ServiceSettings
from referral_service.domain.deadlines import SlaProfile


class Settings(ServiceSettings):
    """Deadline values are ISO 8601 durations (`P5D`, `PT1H`). Defaults are CB-DEFAULT (referrals.md §6.3);
    the outcome deadlines are CaseBridge's own defaults (the handbook names none)."""

    service_name: str = "referral-service"
    oidc_audience: str = "referral-api"
    sla_emergency_acknowledge: timedelta = timedelta(hours=1)
    sla_emergency_first_contact: timedelta = timedelta(hours=4)
    sla_emergency_outcome: timedelta = timedelta(days=7)
    sla_urgent_acknowledge: timedelta = timedelta(hours=24)
    sla_urgent_first_contact: timedelta = timedelta(hours=48)
    sla_urgent_outcome: timedelta = timedelta(days=14)
    sla_priority_acknowledge: timedelta = timedelta(days=2)
    sla_priority_first_contact: timedelta = timedelta(days=5)
    sla_priority_outcome: timedelta = timedelta(days=30)
    sla_routine_acknowledge: timedelta = timedelta(days=5)
    sla_routine_first_contact: timedelta = timedelta(days=10)
    sla_routine_outcome: timedelta = timedelta(days=60)
    referral_expiry: timedelta = Field(default=timedelta(days=30), description="unanswered referrals expire")
    deadline_scan_interval_s: float = Field(default=5.0, gt=0)

    def sla_profiles(self) -> dict[Urgency, SlaProfile]:
        # Business days for everything except emergency and urgent (referrals.md §6.3 `common.business_days`).
        return {
            u: SlaProfile(
                acknowledge=getattr(self, f"sla_{u}_acknowledge"),
                first_contact=getattr(self, f"sla_{u}_first_contact"),
                outcome=getattr(self, f"sla_{u}_outcome"),
                business_days=u in {Urgency.ROUTINE, Urgency.PRIORITY},
            )
            for u in Urgency
        }

    @property
    def allows_deadline_overrides(self) -> bool:
        """A per-referral acknowledgement deadline (for end-to-end tests) is refused in staging and production."""
        return self.environment in {"local", "test"}
