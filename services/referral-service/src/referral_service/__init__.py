"""referral-service: the service directory and closed-loop referrals between offices, agencies and providers."""
