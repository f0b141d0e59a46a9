from casebridge_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "referral-service"
    oidc_audience: str = "referral-api"
