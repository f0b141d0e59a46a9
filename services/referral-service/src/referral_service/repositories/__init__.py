"""Every SQL query of referral-service."""

from referral_service.repositories.cases import Cases
from referral_service.repositories.directory import Directory, ServiceSearch
from referral_service.repositories.referrals import ReferralFilter, Referrals

__all__ = ["Cases", "Directory", "ReferralFilter", "Referrals", "ServiceSearch"]
