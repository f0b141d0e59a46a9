from typing import Annotated

from fastapi import Depends, Request

from casebridge_common.auth import Principal, Scope, requires
from referral_service.service_layer.referrals import DeadlinePolicy
from referral_service.settings import Settings
from referral_service.unit_of_work import ReferralUnitOfWork


def _uow(request: Request) -> ReferralUnitOfWork:
    return ReferralUnitOfWork(request.state.sessions)


def deadline_policy(settings: Settings) -> DeadlinePolicy:
    return DeadlinePolicy(
        profiles=settings.sla_profiles(),
        expiry=settings.referral_expiry,
        allow_overrides=settings.allows_deadline_overrides,
    )


def _policy(request: Request) -> DeadlinePolicy:
    settings: Settings = request.state.settings
    return deadline_policy(settings)


UoW = Annotated[ReferralUnitOfWork, Depends(_uow)]
Policy = Annotated[DeadlinePolicy, Depends(_policy)]
DirectoryRead = Annotated[Principal, requires(Scope.DIRECTORY_READ)]
DirectoryWrite = Annotated[Principal, requires(Scope.DIRECTORY_WRITE)]
ReferralsRead = Annotated[Principal, requires(Scope.REFERRALS_READ)]
ReferralsSend = Annotated[Principal, requires(Scope.REFERRALS_SEND, office=True)]
ReferralsRespond = Annotated[Principal, requires(Scope.REFERRALS_RESPOND)]
OfficeReferralsRead = Annotated[Principal, requires(Scope.REFERRALS_READ, office=True)]
