"""The deployment files (docker-compose, Kubernetes, Keycloak) agree with the local stack they mirror.

No servers and no project imports: the files are parsed with PyYAML and the standard library only, so a drift
between deploy/local, deploy/kafka, the settings and the files for Docker/Kubernetes fails here first.
"""

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
SERVICES = ("case", "referral", "scoring", "notification")  # services/<name>-service, package <name>_service
PROCESS_SETTINGS = {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "OIDC_ISSUER", "OIDC_AUDIENCE"}
NOT_SETTINGS = {"KAFKA_REPLICATION_FACTOR"}  # read by the topics Job's command line, not by Settings
ROUTE = re.compile(r"^\s*location\s+(/v1/\S+)\s*\{\s*proxy_pass\s+http://(\w+);", re.MULTILINE)


def _text(relative: str) -> str:
    return (ROOT / relative).read_text(encoding="utf-8")


@cache
def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load(_text("docker-compose.yml"))
    return compose


@cache
def _k8s_documents() -> tuple[tuple[str, dict[str, Any]], ...]:
    files = sorted([*(ROOT / "deploy/k8s").rglob("*.yaml"), *(ROOT / "deploy/k8s").rglob("*.yml")])
    assert files, "deploy/k8s holds no YAML"
    return tuple(
        (str(path.relative_to(ROOT)), doc)
        for path in files
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if doc
    )


def _k8s(kind: str, *, under: tuple[str, ...] = ("deploy/k8s/",)) -> list[dict[str, Any]]:
    return [doc for path, doc in _k8s_documents() if doc.get("kind") == kind and path.startswith(under)]


@cache
def _realm() -> dict[str, Any]:
    realm: dict[str, Any] = json.loads(_text("deploy/keycloak/casebridge-realm.json"))
    return realm


@cache
def _identities() -> dict[str, Any]:
    identities: dict[str, Any] = json.loads(_text("deploy/local/oidc/identities.json"))
    return identities


def _provider_resources() -> dict[str, set[str]]:
    """audience → scopes of the local provider's resource servers (deploy/local/oidc/provider.mjs)."""
    found = re.findall(
        r"'urn:casebridge:[\w-]+': \{\s*audience: '([^']+)',\s*scope: '([^']+)'",
        _text("deploy/local/oidc/provider.mjs"),
    )
    assert len(found) == len(SERVICES), f"provider.mjs resources changed shape: {found}"
    return {audience: set(scopes.split()) for audience, scopes in found}


def _expected_claims(ref: dict[str, Any]) -> dict[str, str]:
    """The organisation claims the local provider derives for a client or account (orgClaims in provider.mjs)."""
    if "office" in ref:
        office = _identities()["offices"][ref["office"]]
        return {"org_id": office["org_id"], "office_id": office["office_id"], "country": office["country"]}
    organisation = _identities()["organisations"][ref["organisation"]]
    return {"org_id": organisation["org_id"], "country": organisation["country"]}


def _setting_names() -> set[str]:
    files = [ROOT / "shared/src/casebridge_common/settings.py", *ROOT.glob("services/*/src/*/settings.py")]
    fields = {m for f in files for m in re.findall(r"^    ([a-z_]+): ", f.read_text(encoding="utf-8"), re.MULTILINE)}
    return {name.upper() for name in fields if name != "model_config"}


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command") or []
    return command.split() if isinstance(command, str) else [str(part) for part in command]


def _is_topics_job(command: list[str]) -> bool:
    return "casebridge_common.operations" in command and "topics" in command


# (a) topics ---------------------------------------------------------------------------------------------------


def test_every_topic_is_created_by_the_operations_command_that_compose_and_k8s_run() -> None:
    topics = [t["name"] for t in yaml.safe_load(_text("deploy/kafka/topics.yaml"))["topics"]]
    assert topics
    assert len(set(topics)) == len(topics), "a topic is listed twice"
    for name in topics:
        dlq = re.fullmatch(r"casebridge\.([\w-]+)\.dlq", name)
        if dlq:
            assert (ROOT / "services" / dlq.group(1)).is_dir(), f"{name}: no such service"

    # The command creates every topic of deploy/kafka/topics.yaml, found next to the installed package.
    operations = _text("shared/src/casebridge_common/operations.py")
    assert 'add_parser("topics"' in operations
    assert 'parents[3] / "deploy" / "kafka" / "topics.yaml"' in operations
    for name in SERVICES:
        dockerfile = _text(f"services/{name}-service/Dockerfile")
        assert "COPY deploy/kafka/topics.yaml deploy/kafka/topics.yaml" in dockerfile, name
        assert "WORKDIR /app" in dockerfile, name

    jobs = [s for s in _compose()["services"].values() if _is_topics_job(_command(s))]
    assert len(jobs) == 1, "docker-compose.yml needs exactly one topics job"
    assert "--file" not in _command(jobs[0]), "the compose topics job must use deploy/kafka/topics.yaml"
    k8s_jobs = [
        job
        for job in _k8s("Job")
        if _is_topics_job(
            job["spec"]["template"]["spec"]["containers"][0]["command"]
            + job["spec"]["template"]["spec"]["containers"][0].get("args", [])
        )
    ]
    assert len(k8s_jobs) == 1, "deploy/k8s needs exactly one topics Job"
    workers = [s for s in _compose()["services"].values() if _command(s)[-1:] and _command(s)[-1].endswith(".worker")]
    assert len(workers) == len(SERVICES)
    for worker in workers:
        assert worker["depends_on"]["kafka-topics"]["condition"] == "service_completed_successfully"


# (b) routes ---------------------------------------------------------------------------------------------------


def _gateway_routes(relative: str) -> dict[str, str]:
    """path prefix → service short name (case, referral, …) of a gateway config."""
    text = _text(relative)
    upstreams = dict(re.findall(r"upstream\s+(\w+)\s*\{\s*server\s+([^;\s]+)", text))
    routes = {}
    for prefix, upstream in ROUTE.findall(text):
        host = upstreams[upstream].split(":")[0]
        routes[prefix] = upstream.removesuffix("_service") if host == "127.0.0.1" else host.removesuffix("-api")
    return routes


def test_ingress_routes_are_the_gateway_routes() -> None:
    local = _gateway_routes("deploy/local/gateway/nginx.conf.in")
    assert local, "no `location /v1/...` routes found in nginx.conf.in"
    assert set(local.values()) == set(SERVICES)
    assert _gateway_routes("deploy/compose/nginx.conf") == local

    ingresses = _k8s("Ingress")
    assert ingresses, "deploy/k8s has no Ingress"
    services = {s["metadata"]["name"]: s for s in _k8s("Service")}
    for ingress in ingresses:
        routes = {}
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                assert backend["name"] in services, f"Ingress points at a missing Service {backend['name']}"
                port_names = {p.get("name") for p in services[backend["name"]]["spec"]["ports"]}
                assert backend["port"].get("name") in port_names
                assert path["pathType"] == "Prefix"
                routes[path["path"]] = backend["name"].removesuffix("-api")
        assert routes == local, "the Ingress paths differ from deploy/local/gateway/nginx.conf.in"
        annotations = ingress["metadata"].get("annotations", {})
        assert "nginx.ingress.kubernetes.io/limit-rps" in annotations, "the Ingress lost its rate limit"


# (c) identities ------------------------------------------------------------------------------------------------


def _mapper_claims(mappers: list[dict[str, Any]]) -> dict[str, Any]:
    claims: dict[str, Any] = {}
    for mapper in mappers:
        if mapper["protocolMapper"] == "oidc-hardcoded-claim-mapper":
            config = mapper["config"]
            value = config["claim.value"]
            claims[config["claim.name"]] = json.loads(value) if config.get("jsonType.label") == "JSON" else value
    return claims


def test_keycloak_realm_has_every_local_client_with_its_claims() -> None:
    realm = _realm()
    assert realm["realm"] == "casebridge"
    clients = {c["clientId"]: c for c in realm["clients"]}
    scopes = {s["name"]: s for s in realm["clientScopes"]}
    all_api_scopes = set().union(*_provider_resources().values())
    for client_id, local in _identities()["clients"].items():
        assert client_id in clients, f"client {client_id} is missing from the Keycloak realm"
        client = clients[client_id]
        assert client["serviceAccountsEnabled"]
        assert not client["publicClient"]
        assert client["secret"] == f"{client_id}-localdev-secret"
        assert _mapper_claims(client["protocolMappers"]) == {**_expected_claims(local), "roles": local["roles"]}
        allowed = set(local["scope"].split()) if "scope" in local else all_api_scopes
        offered = set(client["optionalClientScopes"])
        assert allowed <= offered, f"{client_id} cannot request {sorted(allowed - offered)}"
        assert offered - allowed <= set(_provider_resources()), f"{client_id} may request more than locally"
    assert "casebridge-mobile" in clients
    mobile = clients["casebridge-mobile"]
    assert mobile["publicClient"]
    assert mobile["standardFlowEnabled"]
    assert mobile["attributes"]["pkce.code.challenge.method"] == "S256"
    redirects = re.search(
        r"client_id: 'casebridge-mobile'.*?redirect_uris: \[([^\]]*)\]",
        _text("deploy/local/oidc/provider.mjs"),
        re.DOTALL,
    )
    assert redirects is not None
    assert set(mobile["redirectUris"]) == set(re.findall(r"'([^']+)'", redirects.group(1)))
    for client in clients.values():
        for name in client.get("defaultClientScopes", []) + client.get("optionalClientScopes", []):
            assert name in scopes or name == "offline_access", f"{client['clientId']}: unknown client scope {name}"


def test_keycloak_realm_has_every_local_account_with_its_claims() -> None:
    users = {u["username"]: u for u in _realm()["users"]}
    for account_id, local in _identities()["accounts"].items():
        assert account_id in users, f"account {account_id} is missing from the Keycloak realm"
        user = users[account_id]
        assert (user["firstName"], user["lastName"]) == (local["given_name"], local["family_name"])
        assert user["email"] == f"{account_id}@{_expected_claims(local)['org_id']}.example"
        expected = {claim: [value] for claim, value in _expected_claims(local).items()} | {"roles": local["roles"]}
        assert user["attributes"] == expected
    # Keycloak 24+ drops user attributes its user profile does not declare: the claims' attributes must be in it.
    profile = json.loads(
        _realm()["components"]["org.keycloak.userprofile.UserProfileProvider"][0]["config"]["kc.user.profile.config"][0]
    )
    declared = {a["name"]: a for a in profile["attributes"]}
    assert {"org_id", "office_id", "country", "roles"} <= set(declared)
    assert declared["roles"]["multivalued"] is True
    claims_scope = next(s for s in _realm()["clientScopes"] if s["name"] == "casebridge-claims")
    mapped = {m["config"]["claim.name"]: m["config"] for m in claims_scope["protocolMappers"]}
    assert set(mapped) == {"org_id", "office_id", "country", "roles"}
    assert mapped["roles"]["multivalued"] == "true", "roles must be a JSON array, as the local provider issues it"


def test_keycloak_audience_scopes_match_the_local_resource_servers() -> None:
    scopes = {s["name"]: s for s in _realm()["clientScopes"]}
    for audience, api_scopes in _provider_resources().items():
        assert audience in scopes, f"no client scope for the audience {audience}"
        mappers = [m for m in scopes[audience]["protocolMappers"] if m["protocolMapper"] == "oidc-audience-mapper"]
        assert [m["config"]["included.custom.audience"] for m in mappers] == [audience]
        for scope in api_scopes:
            assert scopes[scope]["attributes"]["include.in.token.scope"] == "true", scope
    # Keycloak 25+ adds `sub` only through a mapper; the realm declares its own scopes, so it must carry one.
    assert any(m["protocolMapper"] == "oidc-sub-mapper" for m in scopes["basic"]["protocolMappers"])
    assert all("basic" in c["defaultClientScopes"] for c in _realm()["clients"])


# (d) settings ---------------------------------------------------------------------------------------------------


def test_every_compose_service_process_has_its_settings() -> None:
    services = _compose()["services"]
    realm_url = f"{services['keycloak']['environment']['KC_HOSTNAME']}/realms/{_realm()['realm']}"
    known = _setting_names() | NOT_SETTINGS
    seen: dict[str, set[str]] = {name: set() for name in SERVICES}
    for container, service in services.items():
        if not str(service.get("image", "")).startswith("casebridge/") or _is_topics_job(_command(service)):
            continue
        env = {key: str(value) for key, value in service.get("environment", {}).items()}
        missing = PROCESS_SETTINGS - {key for key, value in env.items() if value}
        assert not missing, f"compose service {container} lacks {sorted(missing)}"
        unknown = {key for key in env if not key.startswith("OTEL_EXPORTER_")} - known
        assert not unknown, f"compose service {container} sets unknown variables {sorted(unknown)}"
        name = env["SERVICE_NAME"].removesuffix("-service")
        assert service["image"].startswith(f"casebridge/{name}-service:"), container
        assert env["OIDC_AUDIENCE"] == f"{name}-api"
        assert env["DATABASE_URL"].endswith(f"/{name}_service")
        assert env["OIDC_ISSUER"] == realm_url, "the issuer must be the one KC_HOSTNAME makes Keycloak put in `iss`"
        assert env["ENVIRONMENT"] == "local", "compose uses local-development secrets and an http issuer"
        seen[name].add(container.removeprefix(f"{name}-"))
    assert all(kinds == {"api", "worker", "migrate"} for kinds in seen.values()), seen


def test_every_k8s_service_process_gets_its_settings_from_config_and_secrets() -> None:
    known = _setting_names() | NOT_SETTINGS
    for config_map in _k8s("ConfigMap"):  # the base and the overlays' patches
        data = config_map.get("data", {})
        unknown = {key for key in data if not key.startswith("OTEL_EXPORTER_")} - known
        assert not unknown, f"ConfigMap {config_map['metadata']['name']} sets unknown variables {sorted(unknown)}"
        if "OIDC_ISSUER" in data:
            assert data["OIDC_ISSUER"].startswith("https://"), "staging and production refuse an http issuer"
    base = ("deploy/k8s/base/",)
    config_maps = {c["metadata"]["name"]: c.get("data", {}) for c in _k8s("ConfigMap", under=base)}
    secrets = {s["metadata"]["name"]: s.get("stringData", {}) for s in _k8s("Secret", under=("deploy/k8s/secrets/",))}
    workloads = _k8s("Deployment", under=base) + _k8s("Job", under=base)
    pods = [(d["metadata"]["name"], d["spec"]["template"]["spec"]) for d in workloads]
    checked = 0
    for workload, pod in pods:
        container = pod["containers"][0]
        if _is_topics_job(container["command"]):
            continue
        env: dict[str, str] = {}
        for source in container["envFrom"]:
            if "configMapRef" in source:
                env |= config_maps[source["configMapRef"]["name"]]
            else:
                env |= secrets[source["secretRef"]["name"]]
        missing = PROCESS_SETTINGS - set(env)
        assert not missing, f"{workload} lacks {sorted(missing)}"
        short = workload.rsplit("-", 1)[0]
        assert env["SERVICE_NAME"] == f"{short}-service"
        assert env["OIDC_AUDIENCE"] == f"{short}-api"
        assert env["DATABASE_URL"].split("?")[0].endswith(f"/{short}_service")
        if workload.endswith("-api"):
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["ports"][0]["containerPort"] == 8000
        checked += 1
    assert checked == 3 * len(SERVICES), "expected an api, a worker and a migrate Job per service"


@pytest.mark.parametrize("name", SERVICES)
def test_dockerfile_runs_the_two_step_uv_sync(name: str) -> None:
    dockerfile = _text(f"services/{name}-service/Dockerfile")
    assert f"uv sync --frozen --no-install-workspace --package {name}-service --no-dev" in dockerfile
    assert f"uv sync --frozen --package {name}-service --no-dev" in dockerfile
    assert f"COPY services/{name}-service/migrations" in dockerfile
    assert f"{name}_service.main:create_app" in dockerfile
    assert re.search(r"^USER \d+", dockerfile, re.MULTILINE), "the image must run as a numeric non-root user"
