from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, computed_field

from casebridge_common.http import IsoDateTime


class SuspendReturns(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"country": "SO", "reason": "Armed clashes along the main return routes; staff movement restricted"}
            ]
        },
    )

    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code of the country of return")
    reason: str = Field(min_length=1, max_length=2000, description="the security or operational situation")


class ReturnSuspensionRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "5b0c8e51-2f4d-4c8a-9d3e-7a1b6c2d9e04",
                    "organisation_id": "iom-germany",
                    "country": "SO",
                    "reason": "Armed clashes along the main return routes; staff movement restricted",
                    "suspended_by": "jonas.weber",
                    "suspended_by_office_id": "de-berlin",
                    "suspended_at": "2026-12-04T09:00:00Z",
                    "lifted_by": None,
                    "lifted_at": None,
                    "in_force": True,
                }
            ]
        },
    )

    id: UUID
    organisation_id: str
    country: str
    reason: str
    suspended_by: str
    suspended_by_office_id: str
    suspended_at: IsoDateTime
    lifted_by: str | None
    lifted_at: IsoDateTime | None

    @computed_field(description="not lifted: no new return case to the country can be opened")  # type: ignore[prop-decorator]
    @property
    def in_force(self) -> bool:
        return self.lifted_at is None
