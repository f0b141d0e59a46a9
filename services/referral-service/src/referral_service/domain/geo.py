"""Distances on the sphere for directory search. Pure."""

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)
KM_PER_DEGREE_LATITUDE = 111.32


@dataclass(frozen=True, slots=True)
class BoundingBox:
    min_latitude: float
    max_latitude: float
    min_longitude: float
    max_longitude: float


def bounding_box(latitude: float, longitude: float, radius_km: float) -> BoundingBox:
    """A box that contains every point within `radius_km`, so an index on (latitude, longitude) narrows the
    rows before the exact haversine test. Near the poles it widens to every longitude; it does not wrap
    across the antimeridian (no CaseBridge country straddles it)."""
    delta_latitude = radius_km / KM_PER_DEGREE_LATITUDE
    cos_latitude = math.cos(math.radians(latitude))
    if cos_latitude < 1e-6 or abs(latitude) + delta_latitude >= 90:
        delta_longitude = 180.0
    else:
        delta_longitude = min(180.0, radius_km / (KM_PER_DEGREE_LATITUDE * cos_latitude))
    return BoundingBox(
        min_latitude=max(-90.0, latitude - delta_latitude),
        max_latitude=min(90.0, latitude + delta_latitude),
        min_longitude=max(-180.0, longitude - delta_longitude),
        max_longitude=min(180.0, longitude + delta_longitude),
    )


def haversine_km(latitude_a: float, longitude_a: float, latitude_b: float, longitude_b: float) -> float:
    phi_a, phi_b = math.radians(latitude_a), math.radians(latitude_b)
    d_phi, d_lambda = phi_b - phi_a, math.radians(longitude_b - longitude_a)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi_a) * math.cos(phi_b) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
