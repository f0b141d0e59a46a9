from dataclasses import dataclass

from sqlalchemy import ColumnElement, Float, Subquery, and_, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlmodel import String, col

from casebridge_common.events.contracts.referral import ServiceCategory
from referral_service.domain.geo import EARTH_RADIUS_KM, bounding_box
from referral_service.domain.models import (
    Location,
    Office,
    Organisation,
    Pathway,
    Service,
    ServiceAtLocation,
    ServiceStatus,
)


@dataclass(frozen=True, slots=True)
class ServiceSearch:
    category: ServiceCategory | None = None
    country: str | None = None
    area: str | None = None
    language: str | None = None
    age: int | None = None
    sex: str | None = None
    vulnerability: str | None = None
    organisation_id: str | None = None
    accepting_referrals: bool | None = None
    min_available_places: int | None = None
    max_waiting_days: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius_km: float | None = None


def _contains(column: Mapped[list[str]], value: str) -> ColumnElement[bool]:
    return column.contains(cast([value], ARRAY(String)))


def _empty_or_contains(column: Mapped[list[str]], value: str) -> ColumnElement[bool]:
    return or_(func.cardinality(column) == 0, _contains(column, value))


def accepting_referrals_sql() -> ColumnElement[bool]:
    """The SQL twin of `Service.accepting_referrals`."""
    return and_(
        col(Service.status) == ServiceStatus.ACTIVE,
        col(Service.open_for_referrals).is_(True),
        or_(col(Service.available_places).is_(None), col(Service.available_places) > 0),
    )


class Directory:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert_organisation(self, organisation: Organisation) -> None:
        values = organisation.model_dump()
        await self._session.execute(
            insert(Organisation).values(**values).on_conflict_do_update(index_elements=["id"], set_=values)
        )

    async def upsert_office(self, office: Office) -> None:
        values = office.model_dump()
        await self._session.execute(
            insert(Office).values(**values).on_conflict_do_update(index_elements=["id"], set_=values)
        )

    async def upsert_location(self, location: Location) -> None:
        values = location.model_dump()
        await self._session.execute(
            insert(Location).values(**values).on_conflict_do_update(index_elements=["id"], set_=values)
        )

    async def upsert_pathway(self, pathway: Pathway) -> None:
        values = pathway.model_dump()
        await self._session.execute(
            insert(Pathway).values(**values).on_conflict_do_update(index_elements=["id"], set_=values)
        )

    async def pathway_for(self, country: str, category: ServiceCategory) -> Pathway | None:
        return await self._session.scalar(
            select(Pathway).where(col(Pathway.country) == country, col(Pathway.category) == category)
        )

    async def pathways(
        self, *, country: str | None, category: ServiceCategory | None, after: str | None, limit: int
    ) -> list[Pathway]:
        query = select(Pathway)
        if country is not None:
            query = query.where(col(Pathway.country) == country)
        if category is not None:
            query = query.where(col(Pathway.category) == category)
        if after is not None:
            query = query.where(col(Pathway.id) > after)
        return list((await self._session.scalars(query.order_by(col(Pathway.id)).limit(limit + 1))).all())

    async def services_by_id(self, service_ids: list[str]) -> list[Service]:
        if not service_ids:
            return []
        return list((await self._session.scalars(select(Service).where(col(Service.id).in_(service_ids)))).all())

    async def link_service_to_locations(self, service_id: str, location_ids: list[str]) -> None:
        for location_id in location_ids:
            await self._session.execute(
                insert(ServiceAtLocation)
                .values(service_id=service_id, location_id=location_id)
                .on_conflict_do_nothing()
            )

    async def organisation(self, organisation_id: str) -> Organisation | None:
        return await self._session.get(Organisation, organisation_id)

    async def office(self, office_id: str) -> Office | None:
        return await self._session.get(Office, office_id)

    async def location(self, location_id: str) -> Location | None:
        return await self._session.get(Location, location_id)

    async def location_ids_of(self, service_ids: list[str]) -> dict[str, list[str]]:
        return {k: [loc.id for loc in v] for k, v in (await self.locations_of(service_ids)).items()}

    async def service(self, service_id: str, *, for_update: bool = False) -> Service | None:
        return await self._session.get(Service, service_id, with_for_update=for_update)

    def add_service(self, service: Service) -> None:
        self._session.add(service)

    async def organisations(self, *, country: str | None, after: str | None, limit: int) -> list[Organisation]:
        query = select(Organisation)
        if country is not None:
            query = query.where(col(Organisation.country) == country)
        if after is not None:
            query = query.where(col(Organisation.id) > after)
        return list((await self._session.scalars(query.order_by(col(Organisation.id)).limit(limit + 1))).all())

    async def offices(
        self, *, organisation_id: str | None, country: str | None, after: str | None, limit: int
    ) -> list[Office]:
        query = select(Office)
        if organisation_id is not None:
            query = query.where(col(Office.organisation_id) == organisation_id)
        if country is not None:
            query = query.where(col(Office.country) == country)
        if after is not None:
            query = query.where(col(Office.id) > after)
        return list((await self._session.scalars(query.order_by(col(Office.id)).limit(limit + 1))).all())

    async def search_services(
        self, search: ServiceSearch, *, after: str | None, limit: int
    ) -> list[tuple[Service, float | None]]:
        """Services matching every filter, by id; with a point and radius, also the nearest location's distance.

        Empty eligibility lists (sexes, target groups, admin areas) mean "everyone" / "the whole country".
        """
        conditions: list[ColumnElement[bool]] = []
        if search.category is not None:
            conditions.append(col(Service.category) == search.category)
        if search.country is not None:
            conditions.append(col(Service.service_area_country) == search.country)
        if search.area is not None:
            conditions.append(_empty_or_contains(col(Service.service_area_admin_areas), search.area))
        if search.language is not None:
            conditions.append(_contains(col(Service.languages), search.language))
        if search.age is not None:
            conditions.append(or_(col(Service.minimum_age).is_(None), col(Service.minimum_age) <= search.age))
            conditions.append(or_(col(Service.maximum_age).is_(None), col(Service.maximum_age) >= search.age))
        if search.sex is not None:
            conditions.append(_empty_or_contains(col(Service.eligible_sexes), search.sex))
        if search.vulnerability is not None:
            conditions.append(_empty_or_contains(col(Service.target_groups), search.vulnerability))
        if search.organisation_id is not None:
            conditions.append(col(Service.organisation_id) == search.organisation_id)
        if search.accepting_referrals is not None:
            accepting = accepting_referrals_sql()
            conditions.append(accepting if search.accepting_referrals else ~accepting)
        if search.min_available_places is not None:
            conditions.append(col(Service.available_places) >= search.min_available_places)
        if search.max_waiting_days is not None:
            conditions.append(col(Service.waiting_time_days) <= search.max_waiting_days)
        if after is not None:
            conditions.append(col(Service.id) > after)

        if search.latitude is None or search.longitude is None or search.radius_km is None:
            query = select(Service, literal(None, Float)).where(*conditions)
        else:
            nearest = self._nearest_locations(search.latitude, search.longitude, search.radius_km)
            query = (
                select(Service, nearest.c.distance_km)
                .join(nearest, nearest.c.service_id == col(Service.id))
                .where(*conditions)
            )
        rows = (await self._session.execute(query.order_by(col(Service.id)).limit(limit + 1))).all()
        return [(service, distance) for service, distance in rows]

    @staticmethod
    def _nearest_locations(latitude: float, longitude: float, radius_km: float) -> Subquery:
        box = bounding_box(latitude, longitude, radius_km)
        lat, lon = col(Location.latitude), col(Location.longitude)
        # Haversine in SQL; the bounding box first, so the (latitude, longitude) index does the narrowing.
        h = func.power(func.sin(func.radians(lat - latitude) / 2), 2) + func.cos(func.radians(latitude)) * func.cos(
            func.radians(lat)
        ) * func.power(func.sin(func.radians(lon - longitude) / 2), 2)
        distance = 2 * EARTH_RADIUS_KM * func.asin(func.least(1.0, func.sqrt(h)))
        return (
            select(col(ServiceAtLocation.service_id).label("service_id"), func.min(distance).label("distance_km"))
            .join(Location, col(Location.id) == col(ServiceAtLocation.location_id))
            .where(
                lat.between(box.min_latitude, box.max_latitude),
                lon.between(box.min_longitude, box.max_longitude),
                distance <= radius_km,
            )
            .group_by(col(ServiceAtLocation.service_id))
            .subquery("nearest")
        )

    async def locations_of(self, service_ids: list[str]) -> dict[str, list[Location]]:
        if not service_ids:
            return {}
        rows = (
            await self._session.execute(
                select(col(ServiceAtLocation.service_id), Location)
                .join(Location, col(Location.id) == col(ServiceAtLocation.location_id))
                .where(col(ServiceAtLocation.service_id).in_(service_ids))
                .order_by(col(Location.id))
            )
        ).all()
        found: dict[str, list[Location]] = {}
        for service_id, location in rows:
            found.setdefault(service_id, []).append(location)
        return found
