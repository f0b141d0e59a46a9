-- Runs once, when the compose PostgreSQL volume is first initialised (docker-entrypoint-initdb.d).
-- One database and one login role per service, as in production: no service can read another's tables.
-- The passwords are LOCAL DEVELOPMENT ONLY defaults (the settings refuse "localdev" in staging/production).
CREATE ROLE case_service LOGIN PASSWORD 'case-service-localdev-password';
CREATE DATABASE case_service OWNER case_service;
CREATE ROLE referral_service LOGIN PASSWORD 'referral-service-localdev-password';
CREATE DATABASE referral_service OWNER referral_service;
CREATE ROLE scoring_service LOGIN PASSWORD 'scoring-service-localdev-password';
CREATE DATABASE scoring_service OWNER scoring_service;
CREATE ROLE notification_service LOGIN PASSWORD 'notification-service-localdev-password';
CREATE DATABASE notification_service OWNER notification_service;
