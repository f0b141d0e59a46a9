import pytest

from referral_service.domain.access import relation_to
from referral_service.domain.geo import bounding_box, haversine_km
from referral_service.domain.lifecycle import ReferralStatus, Side

DAKAR, THIES, BERLIN = (14.7167, -17.4677), (14.7910, -16.9359), (52.5200, 13.4050)


@pytest.mark.parametrize(
    ("destination_office", "caller_org", "caller_office", "status", "expected"),
    [
        (None, "iom-germany", "de-berlin", ReferralStatus.REQUESTED, Side.SENDER),
        (None, "iom-germany", "de-berlin", ReferralStatus.DRAFT, Side.SENDER),
        (None, "cfp-dakar", None, ReferralStatus.REQUESTED, Side.DESTINATION),
        (None, "cfp-dakar", None, ReferralStatus.DRAFT, None),
        ("sn-dakar", "iom-senegal", "sn-dakar", ReferralStatus.REQUESTED, Side.DESTINATION),
        ("sn-dakar", "iom-senegal", "sn-thies", ReferralStatus.REQUESTED, None),
        ("sn-dakar", "iom-senegal", None, ReferralStatus.REQUESTED, Side.DESTINATION),
        (None, "iom-iraq", "iq-erbil", ReferralStatus.REQUESTED, None),
        (None, None, None, ReferralStatus.REQUESTED, None),
    ],
)
def test_a_referral_is_visible_to_its_sender_and_its_destination_only(
    destination_office: str | None,
    caller_org: str | None,
    caller_office: str | None,
    status: ReferralStatus,
    expected: Side | None,
) -> None:
    destination_org = "iom-senegal" if destination_office else "cfp-dakar"
    assert (
        relation_to(
            status=status,
            referring_office_id="de-berlin",
            destination_organisation_id=destination_org,
            destination_office_id=destination_office,
            caller_organisation_id=caller_org,
            caller_office_id=caller_office,
        )
        == expected
    )


def test_haversine_distances_match_known_values() -> None:
    assert haversine_km(*DAKAR, *DAKAR) == 0
    assert 55 < haversine_km(*DAKAR, *THIES) < 60
    assert 4900 < haversine_km(*DAKAR, *BERLIN) < 5100


@pytest.mark.parametrize("radius_km", [1, 60, 500])
def test_the_bounding_box_contains_every_point_within_the_radius(radius_km: float) -> None:
    box = bounding_box(*DAKAR, radius_km)
    for bearing_lat, bearing_lon in [(1, 0), (-1, 0), (0, 1), (0, -1)]:
        step = radius_km / 111.32 * 0.999
        point = (DAKAR[0] + bearing_lat * step, DAKAR[1] + bearing_lon * step / 0.967)
        if haversine_km(*DAKAR, *point) <= radius_km:
            assert box.min_latitude <= point[0] <= box.max_latitude
            assert box.min_longitude <= point[1] <= box.max_longitude


def test_the_bounding_box_widens_to_every_longitude_at_the_pole() -> None:
    box = bounding_box(89.9, 0, 50)
    assert (box.min_longitude, box.max_longitude, box.max_latitude) == (-180, 180, 90)
