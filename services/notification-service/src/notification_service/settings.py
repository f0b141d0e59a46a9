from casebridge_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "notification-service"
    oidc_audience: str = "notification-api"
