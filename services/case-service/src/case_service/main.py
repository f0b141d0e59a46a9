from fastapi import FastAPI

from case_service.api import (
    assistance,
    beneficiaries,
    cases,
    compliance,
    consents,
    documents,
    follow_ups,
    households,
    imports,
    lifecycle,
    plan_copy,
    return_suspensions,
    sharing,
    subject_rights,
    sync,
    transfers,
)
from case_service.settings import Settings
from casebridge_common.app import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    """`uvicorn --factory case_service.main:create_app`"""
    return create_service_app(
        settings or Settings(),
        title="CaseBridge case-service",
        description="Returnees and refugees, their cases from first counselling to closure.",
        routers=[  # a request is matched against the routers in this order: cases, the busiest, first
            cases.router,
            beneficiaries.router,
            households.router,
            lifecycle.router,
            documents.router,
            plan_copy.router,
            assistance.router,
            sharing.router,
            transfers.router,
            follow_ups.router,
            consents.router,
            compliance.router,
            subject_rights.router,
            sync.router,
            imports.router,
            return_suspensions.router,
        ],
        openapi_tags=[
            {"name": "beneficiaries", "description": "Returnees and refugees registered by an office"},
            {"name": "cases", "description": "Cases through their lifecycle"},
            {"name": "documents", "description": "Documents of the case file, stored encrypted and type-checked"},
            {"name": "sharing", "description": "Shares with other offices, break-glass, the disclosure preview"},
            {"name": "transfers", "description": "Cross-border handover of a case to another office"},
            {"name": "follow-ups", "description": "Follow-up and monitoring visits: schedules, outcomes, overdue"},
            {"name": "consents", "description": "Consent records, their history and receipts"},
            {"name": "compliance", "description": "Withdrawals and which holders of copies acknowledged them"},
            {"name": "subject rights", "description": "Erasure on request, legal holds, the access report"},
            {"name": "sync", "description": "Mobile delta sync: changes since a cursor, tombstones, offline edits"},
            {"name": "imports", "description": "Bulk import of a legacy caseload from CSV or XLSX"},
            {"name": "return suspensions", "description": "Returns to a country suspended for safety (R46)"},
        ],
    )
