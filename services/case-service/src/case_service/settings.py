from casebridge_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "case-service"
    oidc_audience: str = "case-api"
