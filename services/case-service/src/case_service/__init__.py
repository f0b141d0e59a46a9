"""case-service: beneficiaries, households and cases from first counselling to closure."""
