"""A release the background review finds clean, and the ways to spoil it (SPEC §5).

The case, on 28 July 2021 (Beijing time): a resident of community CA stayed in a county
(扬州市邗江区) from 20 to 22 July; the county is designated medium risk from 28 July 00:00, so the
resident has popup ③. A negative NAT sampled on 23 July is on record, worker_a verified the
itinerary at 07:30 and releases at 10:00 with the commitment letter attached: nothing to find."""

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.models import User
from apps.casework.services import itinerary_verify, popups_release
from apps.people.models import Person
from apps.reviews.models import ReleaseReview
from apps.reviews.services import release_review_run
from tests.api.helpers import RISK_COUNTY, at, client, iso, last_line, rid, stay

IDN = rid("11010519900101123")
CHECKED = {"itinerary_verified": True, "nat_negative": True, "commitment_signed": True}
RELEASED_AT = at(2021, 7, 28, 10)
VERIFIED_AT = at(2021, 7, 28, 7, 30)
NAT_SAMPLED = at(2021, 7, 23, 8)


def lab(idn: str, ext: str, sampled: dt.datetime, result: str = "negative") -> dict:
    return {
        "external_id": ext,
        "id_type": "resident_id",
        "id_number": idn,
        "sampled_at": sampled.isoformat(),
        "reported_at": (sampled + dt.timedelta(hours=6)).isoformat(),
        "result": result,
        "institution": "某检测机构",
    }


def letter() -> SimpleUploadedFile:
    return SimpleUploadedFile("letter.jpg", b"\xff\xd8\xff letter", content_type="image/jpeg")


class Case:
    """The world, the resident, and the steps of the case as functions of the test."""

    def __init__(self, world):
        self.world = world
        self.worker = User.objects.get(username="worker_a")
        self.cdc = User.objects.get(username="cdc_1")
        self.auditor = User.objects.get(username="auditor_1")
        self.person = Person.objects.get(ref=world.ref)

    def resident(self, idn: str, ext: str, *, nat: dt.datetime | None = NAT_SAMPLED, verify: bool = True):
        """Another resident of CA with the same stay (popup ③), NAT and verification."""
        with time_machine.travel(at(2021, 7, 28, 9), tick=False):
            ref = self.world.person(idn, community="CA")
            self.world.feed("stays", stay(idn, ext, RISK_COUNTY, iso(2021, 7, 20, 8), iso(2021, 7, 22, 8)))
            if nat is not None:
                self.world.feed("lab-results", lab(idn, f"{ext}-nat", nat))
            person = Person.objects.get(ref=ref)
            if verify:
                with time_machine.travel(VERIFIED_AT, tick=False):
                    itinerary_verify(actor=self.worker, person=person, note="电话核实行程")
            assert self.world.status(idn)["state"] == "popup"
        return person

    def release(self, when: dt.datetime = RELEASED_AT, *, persons=None, actor=None, files=True):
        """Release popup ③ of the persons (default the resident) at `when`; the releases made."""
        with time_machine.travel(when, tick=False):
            outcome = popups_release(
                actor=actor or self.worker,
                person_ids=[p.pk for p in (persons or [self.person])],
                reason="核实行程、核酸阴性、已签承诺书",
                checklist=CHECKED,
                files=[letter()] if files else (),
            )
        return [r for releases in outcome.releases.values() for r in releases]

    def review(self, release, when: dt.datetime | None = None) -> ReleaseReview:
        """Run the review of `release` (as the task does) at `when` (default a second after it)."""
        with time_machine.travel(when or release.created_at + dt.timedelta(seconds=1), tick=False):
            return release_review_run(release_id=release.pk)


@pytest.fixture
def case(world):
    with time_machine.travel(at(2021, 7, 28, 8), tick=False):
        world.auditor = client(last_line("create_staff", "auditor_1", "--role", "auditor", "--org", "CDC"))
        world.ref = world.person(IDN, community="CA")
        world.feed("stays", stay(IDN, "G1", RISK_COUNTY, iso(2021, 7, 20, 8), iso(2021, 7, 22, 8)))
        world.feed("lab-results", lab(IDN, "NAT1", NAT_SAMPLED))
        world.designate(RISK_COUNTY, "medium", iso(2021, 7, 28, 0))
    c = Case(world)
    with time_machine.travel(VERIFIED_AT, tick=False):
        itinerary_verify(actor=c.worker, person=c.person, note="电话核实行程")
        assert world.status(IDN)["state"] == "popup"
    return c


def codes(review: ReleaseReview) -> list[str]:
    return [f["code"] for f in review.findings]
