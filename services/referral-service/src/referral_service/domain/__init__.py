"""Referral domain: directory records and referrals. No I/O."""
