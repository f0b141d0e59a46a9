"""Realistic synthetic caseloads for case-service: demo data (through the API) and benches (straight into SQL).

Deterministic by seed: `Caseload(seed=7).cases(100, office=BERLIN)` yields the same 100 cases on every run.
The mixes follow the shape of the programmes' caseloads, not any real person:

- **Return and reintegration** from a host office (Berlin): origin countries weighted towards West Africa, the
  Horn of Africa, Iraq and Afghanistan; mostly young adult men, some women, few minors (often travelling with
  a parent); a third of the dates of birth estimated (1 January of the year, as registration practice goes).
- **Resettlement and integration**: refugees from Afghanistan, Somalia, Ethiopia (Eritrean and Somali
  refugees registered there are kept under their nationality), Iraq and others; families, so about half are
  women and girls and about two in five are minors.
- **Vulnerabilities** at screening: most cases have none; prevalence per category roughly as field
  screening reports it (distress after migration abuse, health needs, trafficking, single parents, …), with
  resettlement cases carrying more (torture survivors, fled conflict, large families).
- **Stages** spread over the whole lifecycle, most cases open and in the middle of it.

`copy_cases()` writes beneficiaries and cases with PostgreSQL COPY (about 100k cases per second or more on a
laptop), for benches at 10k and 1M cases. `caseload.py` registers a few dozen through the API for `make up`.
"""

import bisect
import itertools
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Office:
    office_id: str
    organisation_id: str
    workers: tuple[str, ...]


BERLIN = Office("de-berlin", "iom-germany", ("anna.schmidt", "jonas.weber", "leyla.demir", "paul.fischer"))
DAKAR = Office("sn-dakar", "iom-senegal", ("aminata.diop", "cheikh.ndiaye", "fatou.sarr"))
ERBIL = Office("iq-erbil", "iom-iraq", ("shilan.ahmed", "dilshad.karim", "rezan.omer"))

RETURN, RESETTLEMENT = "return_reintegration", "resettlement_integration"

# given names by sex and family names, per nationality (ISO 3166-1 alpha-2)
NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "SN": (
        ("Awa", "Fatou", "Aminata", "Mariama", "Khady", "Ndeye", "Astou", "Coumba"),
        ("Mamadou", "Ibrahima", "Cheikh", "Moussa", "Abdoulaye", "Ousmane", "Modou", "Babacar"),
        ("Ndiaye", "Diop", "Sow", "Fall", "Diallo", "Sarr", "Ba", "Faye", "Gueye", "Mbaye"),
    ),
    "ET": (
        ("Hiwot", "Meron", "Selam", "Tigist", "Almaz", "Bethlehem", "Genet"),
        ("Abebe", "Dawit", "Yonas", "Tesfaye", "Getachew", "Mekonnen", "Solomon"),
        ("Tesfaye", "Bekele", "Girma", "Haile", "Alemu", "Tadesse", "Wolde", "Kebede"),
    ),
    "IQ": (
        ("Shilan", "Zainab", "Noor", "Hawraa", "Rezan", "Sara", "Layla"),
        ("Karwan", "Ahmed", "Ali", "Mustafa", "Dilshad", "Omar", "Hussein"),
        ("Aziz", "Hassan", "Karim", "Mahmoud", "Rashid", "Salih", "Jabbar", "Omer"),
    ),
    "AF": (
        ("Nasrin", "Fatima", "Zahra", "Maryam", "Shabnam", "Parisa", "Laila"),
        ("Ahmad", "Mohammad", "Ali", "Hamid", "Farid", "Rahim", "Jawad"),
        ("Ahmadi", "Hosseini", "Rahimi", "Karimi", "Sultani", "Noori", "Haidari", "Sadat"),
    ),
    "SO": (
        ("Hodan", "Amina", "Fadumo", "Halima", "Sahra", "Ifrah", "Asha"),
        ("Abdi", "Mohamed", "Ahmed", "Hassan", "Abdirahman", "Yusuf", "Omar"),
        ("Warsame", "Farah", "Abdullahi", "Hussein", "Ali", "Jama", "Osman", "Nur"),
    ),
    "ER": (
        ("Senait", "Helen", "Yordanos", "Saba", "Rahel"),
        ("Tesfalem", "Yonas", "Filmon", "Mehari", "Robel"),
        ("Tekle", "Ghebre", "Haile", "Berhane", "Kidane"),
    ),
    "NG": (
        ("Blessing", "Chioma", "Aisha", "Ngozi", "Funmilayo"),
        ("Chinedu", "Emeka", "Ibrahim", "Tunde", "Musa"),
        ("Okafor", "Adeyemi", "Bello", "Eze", "Ogunleye", "Abubakar"),
    ),
    "GN": (
        ("Mariama", "Fatoumata", "Kadiatou", "Hawa"),
        ("Alpha", "Mamadou", "Sekou", "Lansana"),
        ("Barry", "Bah", "Camara", "Keita", "Conde", "Sylla"),
    ),
    "SY": (
        ("Rania", "Hala", "Lina", "Yasmin", "Nour"),
        ("Omar", "Khaled", "Ahmad", "Samer", "Bassel"),
        ("Al-Hamwi", "Haddad", "Khoury", "Darwish", "Sabbagh"),
    ),
}

# (nationality, weight) per programme
ORIGINS: dict[str, tuple[tuple[str, float], ...]] = {
    RETURN: (("SN", 0.22), ("IQ", 0.18), ("AF", 0.14), ("NG", 0.14), ("GN", 0.12), ("ET", 0.12), ("SO", 0.08)),
    RESETTLEMENT: (("AF", 0.26), ("SO", 0.18), ("SY", 0.16), ("ER", 0.14), ("ET", 0.12), ("IQ", 0.14)),
}
# share of women and girls; share of minors (under 18)
FEMALE_SHARE = {RETURN: 0.22, RESETTLEMENT: 0.49}
MINOR_SHARE = {RETURN: 0.08, RESETTLEMENT: 0.41}
ESTIMATED_BIRTH_DATE_SHARE = {"AF": 0.55, "SO": 0.5, "ER": 0.35, "ET": 0.3}  # elsewhere 0.1

# (category, prevalence) at the latest vulnerability screening; independent draws
VULNERABILITIES: dict[str, tuple[tuple[str, float], ...]] = {
    RETURN: (
        ("distress_from_migration_abuse", 0.14),
        ("health_needs", 0.09),
        ("victim_violence_exploitation_abuse", 0.07),
        ("victim_of_trafficking", 0.05),
        ("high_nonproductive_debt", 0.06),
        ("long_absence_no_network", 0.05),
        ("single_parent", 0.03),
        ("mental_health_condition", 0.04),
        ("chronic_condition", 0.03),
        ("disability", 0.015),
        ("gbv_survivor", 0.02),
        ("substance_use", 0.015),
    ),
    RESETTLEMENT: (
        ("fled_conflict", 0.35),
        ("traumatic_experiences", 0.18),
        ("large_family", 0.15),
        ("single_parent", 0.1),
        ("torture_survivor", 0.06),
        ("health_needs", 0.12),
        ("gbv_survivor", 0.06),
        ("disability", 0.04),
        ("uasc", 0.02),
        ("older_person_limited_mobility", 0.03),
        ("pregnant", 0.025),
    ),
}

# (stage, weight): where a caseload stands; mostly open and mid-lifecycle
STAGES: dict[str, tuple[tuple[str, float], ...]] = {
    RETURN: (
        ("pre_departure_counselling", 0.08),
        ("arrived", 0.05),
        ("first_counselling", 0.08),
        ("assessment", 0.1),
        ("planning", 0.12),
        ("implementation", 0.22),
        ("monitoring", 0.15),
        ("closure_preparation", 0.04),
        ("closed", 0.12),
        ("not_returned", 0.02),
        ("withdrawn", 0.015),
        ("deceased", 0.005),
    ),
    RESETTLEMENT: (
        ("referral_submission", 0.07),
        ("case_processing", 0.12),
        ("selection_scheduled", 0.06),
        ("selection_interviewed", 0.06),
        ("approved", 0.07),
        ("placement_planning", 0.07),
        ("travel_booked", 0.04),
        ("reception", 0.05),
        ("post_arrival_orientation", 0.07),
        ("integration_support", 0.2),
        ("follow_up", 0.08),
        ("transitioned", 0.08),
        ("not_approved", 0.02),
        ("cancelled", 0.01),
    ),
}
TRACKS_OPEN_IN = frozenset({"approved", "placement_planning", "travel_booked"})
PROGRAMME_SHARE = {RETURN: 0.7, RESETTLEMENT: 0.3}


@dataclass(frozen=True, slots=True)
class SyntheticCase:
    beneficiary_id: uuid.UUID
    case_id: uuid.UUID
    given_name: str
    family_name: str
    sex: str
    born_on: date
    born_on_is_estimated: bool
    nationality: str
    programme: str
    stage: str
    vulnerability_categories: tuple[str, ...]
    office: Office
    assigned_worker: str
    opened_at: datetime

    @property
    def country_of_origin(self) -> str:
        return self.nationality

    @property
    def country_of_return(self) -> str | None:
        """A returnee returns to the country of origin."""
        return self.nationality if self.programme == RETURN else None

    @property
    def country_of_resettlement(self) -> str | None:
        """A refugee resettles in the country of the office that receives them (a demo office's id starts
        with its country code)."""
        code = self.office.office_id.split("-", 1)[0].upper()
        return code if self.programme == RESETTLEMENT and code != "XX" else None

    def countries(self) -> dict[str, str]:
        named = {
            "country_of_origin": self.country_of_origin,
            "country_of_return": self.country_of_return,
            "country_of_resettlement": self.country_of_resettlement,
        }
        return {name: code for name, code in named.items() if code is not None}

    def beneficiary_body(self) -> dict[str, object]:
        """`POST /v1/beneficiaries`"""
        return {
            "given_name": self.given_name,
            "family_name": self.family_name,
            "sex": self.sex,
            "born_on": self.born_on.isoformat(),
            "born_on_is_estimated": self.born_on_is_estimated,
            "nationality": self.nationality,
            **self.countries(),
        }

    def import_row(self, external_id: str) -> dict[str, str]:
        """A row of a bulk-import file (README "Bulk import"), with the case's stage at import."""
        return {
            "external_id": external_id,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "sex": self.sex,
            "born_on": self.born_on.isoformat(),
            "born_on_is_estimated": "yes" if self.born_on_is_estimated else "no",
            "nationality": self.nationality,
            **self.countries(),
            "programme": self.programme,
            "stage": self.stage,
            "assigned_worker": self.assigned_worker,
        }


class _Weighted:
    """A weighted choice with its cumulative weights computed once (`random.choices` redoes that per call)."""

    def __init__(self, weighted: Sequence[tuple[str, float]]) -> None:
        self._values = [v for v, _ in weighted]
        self._cumulative = list(itertools.accumulate(w for _, w in weighted))

    def pick(self, rng: random.Random) -> str:
        return self._values[bisect.bisect(self._cumulative, rng.random() * self._cumulative[-1])]


_PROGRAMMES = _Weighted(list(PROGRAMME_SHARE.items()))
_ORIGINS = {p: _Weighted(w) for p, w in ORIGINS.items()}
_STAGES = {p: _Weighted(w) for p, w in STAGES.items()}


_UUID_MASK = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_UUID_V4 = (0x4 << 76) | (0x2 << 62)


class Caseload:
    """A deterministic stream of synthetic cases: the same seed gives the same cases, ids included."""

    def __init__(self, seed: int = 2026, *, today: date = date(2026, 12, 1)) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - synthetic data must be reproducible, not secret
        self._today = today
        self._midnight = datetime(today.year, today.month, today.day, tzinfo=UTC)

    def _uuid(self) -> uuid.UUID:
        # random bits with the version-4 and variant bits set, as uuid4() but from the seeded generator
        return uuid.UUID(int=(self._rng.getrandbits(128) & _UUID_MASK) | _UUID_V4)

    def _age(self, programme: str, minor: bool) -> int:
        rng = self._rng
        if minor:
            return rng.randint(0, 17)
        if programme == RETURN:  # young adults dominate returns
            return min(75, max(18, int(rng.lognormvariate(3.35, 0.25))))
        return min(85, max(18, int(rng.gauss(34, 11))))

    def case(self, *, office: Office, programme: str | None = None, opened_within_days: int = 3 * 365) -> SyntheticCase:
        rng = self._rng
        programme = programme or _PROGRAMMES.pick(rng)
        nationality = _ORIGINS[programme].pick(rng)
        female = rng.random() < FEMALE_SHARE[programme]
        minor = rng.random() < MINOR_SHARE[programme]
        age = self._age(programme, minor)
        estimated = rng.random() < ESTIMATED_BIRTH_DATE_SHARE.get(nationality, 0.1)
        year = self._today.year - age - 1
        born_on = date(year, 1, 1) if estimated else date(year, 1, 1) + timedelta(days=int(rng.random() * 365))
        women, men, families = NAMES[nationality]
        vulnerabilities = tuple(c for c, p in VULNERABILITIES[programme] if rng.random() < p)
        if minor and programme == RETURN and rng.random() < 0.3:
            vulnerabilities += ("child_specific_risk",)
        opened_at = self._midnight - timedelta(seconds=rng.random() * opened_within_days * 86_400)
        return SyntheticCase(
            beneficiary_id=self._uuid(),
            case_id=self._uuid(),
            given_name=rng.choice(women if female else men),
            family_name=rng.choice(families),
            sex="female" if female else "male",
            born_on=born_on,
            born_on_is_estimated=estimated,
            nationality=nationality,
            programme=programme,
            stage=_STAGES[programme].pick(rng),
            vulnerability_categories=vulnerabilities,
            office=office,
            assigned_worker=rng.choice(office.workers),
            opened_at=opened_at,
        )

    def cases(self, count: int, *, office: Office, programme: str | None = None) -> Iterator[SyntheticCase]:
        for _ in range(count):
            yield self.case(office=office, programme=programme)


class CopyConnection(Protocol):
    """The part of `asyncpg.Connection` that `copy_cases` uses."""

    async def copy_records_to_table(
        self, table_name: str, *, records: Sequence[tuple[object, ...]], columns: Sequence[str]
    ) -> str: ...


BENEFICIARY_COLUMNS = (
    "id",
    "given_name",
    "family_name",
    "sex",
    "born_on",
    "born_on_is_estimated",
    "nationality",
    "registering_office_id",
    "registering_organisation_id",
    "registered_at",
    "version",
    "country_of_origin",
    "country_of_return",
    "country_of_resettlement",
)
CASE_COLUMNS = (
    "id",
    "beneficiary_id",
    "programme",
    "stage",
    "owner_office_id",
    "owner_organisation_id",
    "assigned_worker",
    "opened_at",
    "version",
    "health_track",
    "pdo_track",
    "documents_track",
    "vulnerability_categories",
    "stage_changed_at",
)


def _tracks(case: SyntheticCase) -> tuple[str | None, str | None, str | None]:
    if case.programme != RESETTLEMENT:
        return None, None, None
    if case.stage in TRACKS_OPEN_IN:
        return "assessed", "invited", "pending"
    return "not_started", "not_started", "pending"


async def copy_cases(conn: CopyConnection, cases: Iterator[SyntheticCase], *, batch: int = 20_000) -> int:
    """Write beneficiaries and their cases with COPY, `batch` at a time (no events, no audit: bench data
    only, into a scratch database). Returns how many cases were written."""
    written = 0
    while True:
        chunk = [c for _, c in zip(range(batch), cases, strict=False)]
        if not chunk:
            return written
        await conn.copy_records_to_table(
            "beneficiaries",
            records=[
                (
                    c.beneficiary_id,
                    c.given_name,
                    c.family_name,
                    c.sex,
                    c.born_on,
                    c.born_on_is_estimated,
                    c.nationality,
                    c.office.office_id,
                    c.office.organisation_id,
                    c.opened_at,
                    1,
                    c.country_of_origin,
                    c.country_of_return,
                    c.country_of_resettlement,
                )
                for c in chunk
            ],
            columns=BENEFICIARY_COLUMNS,
        )
        await conn.copy_records_to_table(
            "cases",
            records=[
                (
                    c.case_id,
                    c.beneficiary_id,
                    c.programme,
                    c.stage,
                    c.office.office_id,
                    c.office.organisation_id,
                    c.assigned_worker,
                    c.opened_at,
                    1,
                    *_tracks(c),
                    list(c.vulnerability_categories),
                    c.opened_at,
                )
                for c in chunk
            ],
            columns=CASE_COLUMNS,
        )
        written += len(chunk)
