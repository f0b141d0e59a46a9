"""Every SQL query of referral-service."""

from referral_service.repositories.cases import Cases
from referral_service.repositories.consents import Consents
from referral_service.repositories.directory import Directory, ServiceSearch
from referral_service.repositories.disclosures import Disclosures
from referral_service.repositories.referrals import ReferralFilter, Referrals

__all__ = ["Cases", "Consents", "Directory", "Disclosures", "ReferralFilter", "Referrals", "ServiceSearch"]
