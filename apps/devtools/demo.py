"""A demo world to try the portal with (`manage.py seed_demo`).

Organisations in two Beijing districts (朝阳区 110105 and 海淀区 110108: streets, communities,
hotels and the culture-and-tourism bureau), the three hotline centres and the city CDC; one login
per staff role plus a superuser, all with the same known password; a partner gateway with every
scope; and, once, a few thousand persons with phones and 30 days of evidence (tickets, telecom
itineraries, lab results, health events, inbound arrivals and observation orders) that exercise
the rules of SPEC §2–3.

Organisations, logins and the partner go through the accounts services and are re-ensured on
every run. Persons and evidence are generated deterministically from `seed` and written in bulk
with the same derived fields the people services compute (hashes, ciphertexts, masked forms) —
calling `person_upsert` once per person would take minutes — under one `Ingestion(feed="demo")`,
whose presence makes a re-run leave them alone.
"""

import datetime as dt
import random
from dataclasses import dataclass, field

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from apps.accounts.choices import OrgKind, Role, Scope
from apps.accounts.models import Organisation, User
from apps.accounts.services import organisation_upsert, partner_upsert, staff_upsert
from apps.areas.models import Area
from apps.core.clock import LOCAL_TZ, local_date, now
from apps.devtools.seeding import person_protected_fields, phone_protected_fields
from apps.evidence.choices import DrugClass, HealthEventKind, LabResultValue, OrderKind, Precision, StaySource, Symptom
from apps.evidence.models import HealthEvent, InboundArrival, Ingestion, LabResult, ObservationOrder, Stay
from apps.evidence.services import content_hash
from apps.people.choices import IdType, PhoneChannel
from apps.people.identity import resident_id_check_char
from apps.people.models import Person, Phone
from apps.people.services import phone_hash
from apps.policy.services import border_port_publish, risk_designation_publish
from apps.status.services import status_recompute_all

DEMO_FEED = "demo"
DEMO_PASSWORD = "healthkit-demo"
ADMIN_USERNAME = "admin"
PARTNER_NAME = "demo-gateway"
PARTNER_SCOPES = [Scope.FEEDS.value, Scope.STATUS.value, Scope.RESTRICTIONS.value]
WINDOW_DAYS = 30
BATCH = 1000

# --- organisations ------------------------------------------------------------------------------

BEIJING = "110000"
DISTRICTS = {
    "110105": (
        "朝阳区",
        {
            "三里屯街道": ["北三里社区", "幸福一村社区", "中纺里社区"],
            "望京街道": ["望京西园一区社区", "花家地北里社区"],
        },
        ["北京三里屯花园酒店", "望京商务酒店"],
    ),
    "110108": (
        "海淀区",
        {"中关村街道": ["科源社区", "黄庄社区", "知春里社区"], "学院路街道": ["二里庄社区", "石油大院社区"]},
        ["中关村学苑宾馆", "五道口国际饭店"],
    ),
}
CDC_CODE = "CDC"
HOTLINES = {"12345": "12345市民服务热线", "12326": "12326民航服务质量监督电话", "12306": "12306铁路客户服务中心"}


@dataclass(frozen=True)
class OrgSpec:
    code: str
    kind: str
    name: str
    area: str | None = None
    parent: str | None = None


def demo_organisations() -> list[OrgSpec]:
    """Every demo organisation, parents before children."""
    specs = [OrgSpec(CDC_CODE, OrgKind.CDC, "北京市疾病预防控制中心（市疾控）", BEIJING)]
    specs += [OrgSpec(f"HL-{number}", OrgKind.HOTLINE, name, BEIJING) for number, name in HOTLINES.items()]
    for area, (district, streets, hotels) in DISTRICTS.items():
        d = f"D-{area}"
        specs.append(OrgSpec(d, OrgKind.DISTRICT, district, area))
        specs.append(OrgSpec(f"TB-{area}", OrgKind.TOURISM_BUREAU, f"{district}文化和旅游局", area, d))
        for i, (street, communities) in enumerate(streets.items(), start=1):
            s = f"S-{area}-{i:02d}"
            specs.append(OrgSpec(s, OrgKind.STREET, street, area, d))
            specs += [
                OrgSpec(f"C-{area}-{i:02d}-{j:02d}", OrgKind.COMMUNITY, name, area, s)
                for j, name in enumerate(communities, start=1)
            ]
        specs += [OrgSpec(f"H-{area}-{k:02d}", OrgKind.HOTEL, name, area, d) for k, name in enumerate(hotels, start=1)]
    return specs


# One login per staff role (username, role, organisation code).
DEMO_POLICY_ADMIN = "demo_policy"
DEMO_LOGINS = (
    ("demo_community", Role.COMMUNITY_WORKER, "C-110105-01-01"),
    ("demo_hotel", Role.HOTEL_STAFF, "H-110105-01"),
    ("demo_tourism", Role.TOURISM_OFFICER, "TB-110105"),
    ("demo_hotline", Role.HOTLINE_OPERATOR, "HL-12345"),
    ("demo_cdc", Role.CDC_OFFICER, CDC_CODE),
    (DEMO_POLICY_ADMIN, Role.POLICY_ADMIN, CDC_CODE),
    ("demo_auditor", Role.AUDITOR, CDC_CODE),
)

# --- where people travel ------------------------------------------------------------------------

# Counties of rail and air tickets, with weights: 扬州邗江 and 瑞丽 (a border-port county) are the
# places of the seeds' stories, rare on purpose.
TICKET_COUNTIES = {
    "310101": 10,  # 上海 黄浦区
    "440305": 8,  # 深圳 南山区
    "330106": 8,  # 杭州 西湖区
    "510107": 6,  # 成都 武侯区
    "420106": 6,  # 武汉 武昌区
    "370102": 5,  # 济南 历下区
    "120101": 6,  # 天津 和平区
    "130602": 5,  # 保定 竞秀区
    "321003": 2,  # 扬州 邗江区
    "533102": 1,  # 德宏 瑞丽市
}
RISK_COUNTY = "321003"
BORDER_COUNTY = "533102"
# Cities of telecom itineraries (city precision) for people who did not buy a ticket.
TELECOM_CITIES = {"120100": 10, "130600": 8, "310100": 5, "440300": 3, "330100": 3, "321000": 1}
REQUIRED_AREAS = set(DISTRICTS)
OPTIONAL_AREAS = {BEIJING, *TICKET_COUNTIES, *TELECOM_CITIES}

# --- names and numbers --------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "慕容", "东方")
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉红建国文斌宇浩凯健俊帆鑫雪琳晨欣怡"
    "子涵梓轩雨泽嘉博思佳一诺宁安然志远海燕春梅晓东立新振宏德成云飞天佑家豪若曦婷婷欢乐"
)
FOREIGN_NAMES = (
    "John Smith",
    "Maria Garcia",
    "Kim Minjun",
    "Tanaka Yuki",
    "Anna Ivanova",
    "Lucas Martin",
    "Sofia Rossi",
    "Ahmed Hassan",
    "Emma Brown",
    "Nguyen Van An",
)
RESIDENT_PREFIXES = (
    ("110105", 14),
    ("110108", 14),
    ("110101", 6),
    ("110102", 6),
    ("110106", 4),
    ("130102", 4),
    ("370102", 3),
    ("410105", 3),
    ("320102", 3),
    ("420106", 3),
    ("510107", 2),
    ("440305", 2),
    ("321003", 1),
)
PHONE_PREFIXES = (
    "130",
    "133",
    "135",
    "136",
    "138",
    "139",
    "150",
    "151",
    "153",
    "158",
    "177",
    "180",
    "186",
    "189",
    "199",
)
CHANNELS = tuple(PhoneChannel.values)
LABS = ("北京金域医学检验实验室", "朝阳医院检验科", "海淀医院检验科", "北京市疾控中心实验室", "华大基因北京医学检验所")
PORTS = ("首都国际机场", "大兴国际机场", "天津滨海国际机场口岸")
TRAIN_PREFIXES = ("G", "D", "Z", "K")
AIRLINES = ("CA", "MU", "CZ", "HU", "3U")


class AreasNotLoaded(RuntimeError):
    """The demo names real counties; they must be loaded first (`manage.py load_areas`)."""


@dataclass
class Generated:
    """The rows of one demo run, before they are written."""

    persons: list = field(default_factory=list)
    phones: list = field(default_factory=list)  # (person index, Phone without person)
    stays: list = field(default_factory=list)  # (person index, Stay); telecom stays name no person
    lab_results: list = field(default_factory=list)
    health_events: list = field(default_factory=list)
    inbound_arrivals: list = field(default_factory=list)
    observation_orders: list = field(default_factory=list)


# --- the entry point ----------------------------------------------------------------------------


def demo_seed(*, persons: int = 3000, seed: int = 7) -> dict:
    """Ensure the demo organisations, logins and partner; create the demo persons and their
    evidence unless an earlier run did; then compute every status (when the status engine is
    installed). Returns what was done: the logins with their password and a fresh API token,
    the partner's token, and the counts of created rows (None when the persons were left alone)."""
    present = set(Area.objects.filter(code__in=REQUIRED_AREAS | OPTIONAL_AREAS).values_list("code", flat=True))
    missing_required = sorted(REQUIRED_AREAS - present)
    if missing_required:
        missing = ", ".join(missing_required)
        raise AreasNotLoaded(f"The areas are not loaded (missing {missing}): run `manage.py load_areas` first.")
    with transaction.atomic():
        orgs = organisations_ensure(present)
        logins = _logins_ensure()
        partner, partner_token = partner_upsert(name=PARTNER_NAME, scopes=sorted(PARTNER_SCOPES))
        counts = None
        if not Ingestion.objects.filter(feed=DEMO_FEED).exists():
            counts = _people_and_evidence_create(persons=persons, seed=seed, orgs=orgs, present=present)
    statuses = _statuses_recompute() if counts else None
    return {
        "logins": logins,
        "partner": {"name": partner.name, "scopes": partner.scopes, "token": partner_token},
        "created": counts,
        "statuses": statuses,
        "missing_areas": sorted(OPTIONAL_AREAS - present),
    }


def organisations_ensure(present: set[str]) -> dict[str, Organisation]:
    """Create or update the demo organisations; the areas not loaded are left out."""
    orgs = {}
    for spec in demo_organisations():
        area = spec.area if spec.area in present else None
        orgs[spec.code], _created = organisation_upsert(
            code=spec.code, kind=spec.kind, name=spec.name, area_code=area, parent_code=spec.parent
        )
    return orgs


def _logins_ensure() -> list[dict]:
    logins = []
    for username, role, org_code in DEMO_LOGINS:
        user, token = staff_upsert(username=username, role=role, org_code=org_code, password=DEMO_PASSWORD)
        org = user.organisation
        logins.append(_login(username, role.value, f"{org.code} {org.name}", token))
    _superuser_ensure(username=ADMIN_USERNAME, password=DEMO_PASSWORD)
    logins.append(_login(ADMIN_USERNAME, "superuser", "-", ""))
    return logins


def _login(username: str, role: str, organisation: str, token: str) -> dict:
    return {"username": username, "role": role, "organisation": organisation, "password": DEMO_PASSWORD, "token": token}


def _superuser_ensure(*, username: str, password: str) -> User:
    """The demo's Django superuser (no role, no organisation: it sees everything through the
    admin). Its password is reset to the demo password on every run."""
    user = User.objects.filter(username=username).first() or User(username=username)
    user.is_staff = user.is_superuser = user.is_active = True
    user.set_password(password)
    user.save()
    return user


def _statuses_recompute() -> int:
    return status_recompute_all()


# --- persons and evidence -----------------------------------------------------------------------


@transaction.atomic
def _people_and_evidence_create(*, persons: int, seed: int, orgs: dict, present: set[str]) -> dict:
    t = now()
    ingestion = Ingestion.objects.create(
        feed=DEMO_FEED, received_at=t, payload={"seed": seed, "persons": persons}, record_count=0
    )
    communities = [o for o in orgs.values() if o.kind == OrgKind.COMMUNITY]
    cities = dict(Area.objects.filter(code__in=list(TICKET_COUNTIES)).values_list("code", "city_id"))
    world = DemoWorld(
        rng=random.Random(seed),
        t=t,
        ingestion=ingestion,
        communities=communities,
        cdc=orgs[CDC_CODE],
        counties={c: w for c, w in TICKET_COUNTIES.items() if c in present},
        telecom_cities={c: w for c, w in TELECOM_CITIES.items() if c in present},
        city_of={c: city for c, city in cities.items() if city in present},
    )
    rows = world.generate(persons)
    counts = _write(rows, ingestion)
    counts["policy_publications"] = _policy_publish(t=t, present=present)
    return counts


def _policy_publish(*, t: dt.datetime, present: set[str]) -> int:
    """What makes the seeds' places matter: 扬州邗江 a high-risk county for the last twelve days
    (popup ③, or yellow while still there) and 瑞丽 a border-port county (popup ⑤), published by
    the demo policy administrator through the policy services."""
    actor = User.objects.get(username=DEMO_POLICY_ADMIN)
    published = 0
    if RISK_COUNTY in present:
        risk_designation_publish(
            actor=actor, area_code=RISK_COUNTY, level="high", effective_from=t - dt.timedelta(days=12), note="演示数据"
        )
        published += 1
    if BORDER_COUNTY in present:
        border_port_publish(actor=actor, area_code=BORDER_COUNTY, effective_from=t - dt.timedelta(days=365))
        published += 1
    return published


def _write(rows: Generated, ingestion: Ingestion) -> dict:
    # People whose ID already exists (fed in before the demo) are left as they are.
    by_hash = {p.id_hash: i for i, (p, _idn) in enumerate(rows.persons)}
    existing = set()
    hashes = list(by_hash)
    for start in range(0, len(hashes), BATCH):
        chunk = hashes[start : start + BATCH]
        existing.update(Person.objects.filter(id_hash__in=chunk).values_list("id_hash", flat=True))
    skipped = {by_hash[h] for h in existing}
    new_persons = [p for i, (p, _idn) in enumerate(rows.persons) if i not in skipped]
    bulk_create_with_history(new_persons, Person, batch_size=BATCH)
    person_at = {i: p for i, (p, _idn) in enumerate(rows.persons) if i not in skipped}

    phones = []
    for index, phone in rows.phones:
        if index in person_at:
            phone.person = person_at[index]
            phones.append(phone)
    bulk_create_with_history(phones, Phone, batch_size=BATCH)

    counts = {"persons": len(new_persons), "phones": len(phones)}
    for name, model, items in (
        ("stays", Stay, rows.stays),
        ("lab_results", LabResult, rows.lab_results),
        ("health_events", HealthEvent, rows.health_events),
        ("inbound_arrivals", InboundArrival, rows.inbound_arrivals),
        ("observation_orders", ObservationOrder, rows.observation_orders),
    ):
        objs = []
        for index, obj in items:
            if index not in person_at:
                continue  # a person who was there before the demo keeps their own evidence
            if not getattr(obj, "phone_hash", ""):
                obj.person = person_at[index]  # a telecom stay belongs to its phone number, not a person
            objs.append(obj)
        bulk_create_with_history(objs, model, batch_size=BATCH)
        counts[name] = len(objs)
    records = sum(v for k, v in counts.items() if k not in ("persons", "phones"))
    ingestion.record_count = ingestion.accepted = records
    ingestion.save(update_fields=["record_count", "accepted"])
    return counts


@dataclass(frozen=True)
class _Who:
    """The person a generated fact names: their position in the batch and their ID."""

    index: int
    id_type: str
    number: str

    def ident(self) -> dict:
        return {"id_type": self.id_type, "id_number": self.number}


@dataclass
class DemoWorld:
    """Generates the persons and their evidence; deterministic for a seed (relative to `t`)."""

    rng: random.Random
    t: dt.datetime
    ingestion: Ingestion
    communities: list
    cdc: Organisation
    counties: dict[str, int]
    telecom_cities: dict[str, int]
    city_of: dict[str, str]
    rows: Generated = field(default_factory=Generated)
    serial: int = 0
    used_ids: set = field(default_factory=set)
    used_phones: set = field(default_factory=set)

    # helpers

    def _external_id(self, kind: str) -> str:
        self.serial += 1
        return f"demo-{kind}-{self.serial:06d}"

    def _pick(self, weighted: dict[str, int]) -> str:
        return self.rng.choices(list(weighted), weights=list(weighted.values()))[0]

    def _ago(self, low_days: float, high_days: float) -> dt.datetime:
        return self.t - dt.timedelta(days=self.rng.uniform(low_days, high_days))

    def _hours(self, low: float, high: float) -> dt.timedelta:
        return dt.timedelta(hours=self.rng.uniform(low, high))

    def _past(self, moment: dt.datetime | None) -> dt.datetime | None:
        """`moment` if it has already happened, else None (not known yet)."""
        return moment if moment is not None and moment <= self.t else None

    def _record(self, model, who: _Who | None, data: dict, *, source: str | None = None, **fields):
        """A fact as a feed would have stored it: the content hash is taken of the record in the
        form the feed validates it, so resending it through the API is a duplicate."""
        if who is not None:
            data = {**data, **who.ident()}
        obj = model(
            source=source or data["source"],
            external_id=data["external_id"],
            ingestion=self.ingestion,
            ingested_at=self.t,
            content_hash=content_hash(data),
            **fields,
        )
        return (who.index if who else None), obj

    # persons

    def _birth_date(self) -> dt.date:
        # A tenth children and a fifth aged 60 or over: the proxy look-up (老幼助查) has people to serve.
        bucket = self.rng.random()
        low, high = (1, 16) if bucket < 0.1 else (60, 92) if bucket < 0.3 else (17, 59)
        return local_date(self.t) - dt.timedelta(days=int(self.rng.uniform(low, high) * 365.25))

    def _chinese_name(self) -> str:
        surname = self.rng.choice(COMPOUND_SURNAMES) if self.rng.random() < 0.02 else self.rng.choice(SURNAMES)
        return surname + "".join(self.rng.choice(GIVEN) for _ in range(1 if self.rng.random() < 0.3 else 2))

    def _identity(self, birth: dt.date) -> tuple[str, str, str]:
        """(id_type, id_number, name): mostly resident IDs, a few permits, passports and cards."""
        kind = self.rng.random()
        if kind < 0.94:
            prefix = self.rng.choices([p for p, _w in RESIDENT_PREFIXES], [w for _p, w in RESIDENT_PREFIXES])[0]
            first17 = f"{prefix}{birth:%Y%m%d}{self.rng.randrange(1000):03d}"
            return IdType.RESIDENT_ID, first17 + resident_id_check_char(first17), self._chinese_name()
        if kind < 0.96:
            number = f"{self.rng.choice('HM')}{self.rng.randrange(10**8):08d}"
            return IdType.HK_MACAO_PERMIT, number, self._chinese_name()
        if kind < 0.975:
            return IdType.TAIWAN_PERMIT, f"{self.rng.randrange(10**8):08d}", self._chinese_name()
        if kind < 0.99:
            number = f"{self.rng.choice('EPG')}{self.rng.randrange(10**8):08d}"
            return IdType.PASSPORT, number, self.rng.choice(FOREIGN_NAMES)
        country = self.rng.choice(("840", "410", "392", "250"))
        number = f"911{country}{birth:%y%m%d}{self.rng.randrange(10**6):06d}"
        return IdType.FOREIGN_PERMANENT_RESIDENCE, number, self.rng.choice(FOREIGN_NAMES)

    def _person(self, index: int) -> _Who:
        birth = self._birth_date()
        id_type, number, name = self._identity(birth)
        while not self._identity_free(id_type, number):
            id_type, number, name = self._identity(birth)
        self.used_ids.add((id_type, number))
        fields = person_protected_fields(id_type, number, name)
        person = self._new_person(fields, birth_date=birth, community=self.rng.choice(self.communities))
        self.rows.persons.append((person, number))
        return _Who(index, id_type, number)

    def _identity_free(self, id_type: str, number: str) -> bool:
        return (id_type, number) not in self.used_ids

    def _new_person(self, fields: dict, *, birth_date: dt.date, community: Organisation):
        return Person(**fields, birth_date=birth_date, community=community)

    def _phone_number(self) -> str:
        while True:
            number = self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if self._phone_free(number):
                self.used_phones.add(number)
                return number

    def _phone_free(self, number: str) -> bool:
        return number not in self.used_phones

    def _phones(self, who: _Who) -> list[str]:
        """One or two numbers, each bound through one channel; a carrier's real-name registration
        often comes with an app binding of the same number. A few were unbound lately."""
        numbers = [self._phone_number()]
        bindings = [(numbers[0], self.rng.choice(CHANNELS))]
        if self.rng.random() < 0.35:
            if bindings[0][1] != PhoneChannel.CARRIER and self.rng.random() < 0.5:
                bindings.append((numbers[0], PhoneChannel.CARRIER))
            else:
                numbers.append(self._phone_number())
                bindings.append((numbers[1], self.rng.choice(CHANNELS)))
        for number, channel in bindings:
            bound_at = self._ago(WINDOW_DAYS, 900)
            unbound_at = self._ago(1, WINDOW_DAYS - 1) if self.rng.random() < 0.03 else None
            fields = phone_protected_fields(number)
            phone = self._new_phone(fields, channel=channel, bound_at=bound_at, unbound_at=unbound_at)
            self.rows.phones.append((who.index, phone))
        return numbers

    def _new_phone(self, fields: dict, **values):
        return Phone(**fields, **values)

    # evidence

    def _ticket(self, who: _Who, phones: list[str]) -> None:
        """A trip out of Beijing by rail or air: the county stay, often the carrier's city-level
        trace of it, and, once back, the Beijing entry with usually a test around it."""
        source = StaySource.RAIL if self.rng.random() < 0.6 else StaySource.AIR
        county = self._pick(self.counties)
        arrived = self._ago(1, WINDOW_DAYS - 2)
        departed = self._past(arrived + dt.timedelta(days=self.rng.uniform(0.5, 6)))
        refunded = self.rng.random() < 0.05
        if source == StaySource.RAIL:
            service = f"{self.rng.choice(TRAIN_PREFIXES)}{self.rng.randrange(1, 999)}"
        else:
            service = f"{self.rng.choice(AIRLINES)}{self.rng.randrange(1000, 9999)}"
        data = {
            "source": source,
            "external_id": self._external_id(f"{service}-{arrived.astimezone(LOCAL_TZ):%Y%m%d}"),
            "area_code": county,
            "precision": Precision.COUNTY,
            "arrived_at": arrived,
            "departed_at": departed,
            "refunded": refunded,
        }
        fields = {"area_id": county, "precision": Precision.COUNTY, "refunded": refunded}
        self.rows.stays.append(self._record(Stay, who, data, arrived_at=arrived, departed_at=departed, **fields))
        if refunded:
            return  # the trip never happened
        city = self.city_of.get(county)
        if city and self.rng.random() < 0.6:
            self._telecom(who, self.rng.choice(phones), city, arrived + self._hours(0.5, 2), departed)
        entered = self._past(departed + self._hours(2, 6)) if departed else None
        if entered is None:
            return  # still away
        self._health_event(who, HealthEventKind.BEIJING_ENTRY, entered)
        if self.rng.random() < 0.8:
            self._lab_result(who, entered + self._hours(-40, 20))

    def _telecom(self, who: _Who, phone: str, city: str, arrived: dt.datetime, departed: dt.datetime | None) -> None:
        """A carrier's itinerary: city precision, keyed by the phone number, naming no person."""
        data = {
            "source": StaySource.TELECOM,
            "external_id": self._external_id("tel"),
            "phone": phone,
            "area_code": city,
            "precision": Precision.CITY,
            "arrived_at": arrived,
            "departed_at": departed,
            "refunded": False,
        }
        fields = {"area_id": city, "precision": Precision.CITY, "phone_hash": phone_hash(phone)}
        _none, stay = self._record(Stay, None, data, arrived_at=arrived, departed_at=departed, **fields)
        self.rows.stays.append((who.index, stay))

    def _lab_result(self, who: _Who, sampled: dt.datetime, result: str = LabResultValue.NEGATIVE) -> None:
        sampled = min(sampled, self.t)
        reported = self._past(sampled + self._hours(4, 20))
        institution = self.rng.choice(LABS)
        data = {
            "external_id": self._external_id("lab"),
            "sampled_at": sampled,
            "reported_at": reported,
            "result": result,
            "institution": institution,
        }
        fields = {"sampled_at": sampled, "reported_at": reported, "result": result, "institution": institution}
        self.rows.lab_results.append(self._record(LabResult, who, data, source="lab-results", **fields))

    def _health_event(self, who: _Who, kind: str, occurred: dt.datetime, detail: str = "") -> None:
        data = {"external_id": self._external_id("event"), "kind": kind, "occurred_at": occurred, "detail": detail}
        fields = {"kind": kind, "occurred_at": occurred, "detail": detail}
        self.rows.health_events.append(self._record(HealthEvent, who, data, source="health-events", **fields))

    def _inbound(self, who: _Who) -> None:
        """An international arrival: 14 days of centralised observation ordered at entry, the
        21-day quarantine completed when it is over."""
        entered = self._ago(1, WINDOW_DAYS - 1)
        completed = self._past(entered + dt.timedelta(days=21))
        port = self.rng.choice(PORTS)
        data = {
            "external_id": self._external_id("entry"),
            "entered_at": entered,
            "port": port,
            "quarantine_completed_at": completed,
        }
        fields = {"entered_at": entered, "port": port, "quarantine_completed_at": completed}
        self.rows.inbound_arrivals.append(self._record(InboundArrival, who, data, source="inbound-arrivals", **fields))
        self._order(who, OrderKind.CENTRALIZED, entered, days=14, reason="入境人员集中隔离观察")

    def _order(self, who: _Who, kind: str, starts: dt.datetime, *, days: int, reason: str) -> None:
        ends = starts + dt.timedelta(days=days)
        data = {
            "external_id": self._external_id("order"),
            "kind": kind,
            "starts_at": starts,
            "ends_at": ends,
            "reason": reason,
        }
        fields = {"kind": kind, "starts_at": starts, "ends_at": ends, "reason": reason, "issuer_org": self.cdc}
        self.rows.observation_orders.append(
            self._record(ObservationOrder, who, data, source="observation-orders", **fields)
        )

    def _symptoms(self, who: _Who) -> None:
        """A few buy fever or cough medicine or see a doctor with a symptom (popup ④); most of
        them are tested within the grace period."""
        occurred = self._ago(0, WINDOW_DAYS)
        if self.rng.random() < 0.6:
            self._health_event(who, HealthEventKind.DRUG_PURCHASE, occurred, self.rng.choice(DrugClass.values))
        else:
            self._health_event(who, HealthEventKind.CLINIC_VISIT, occurred, self.rng.choice(Symptom.values))
        if self.rng.random() < 0.6:
            self._lab_result(who, occurred + self._hours(2, 60))

    def generate(self, count: int) -> Generated:
        inbound = set(self.rng.sample(range(count), k=min(count, max(2, count // 500))))
        ordered = set(self.rng.sample(range(count), k=min(count, max(2, count // 600))))
        for index in range(count):
            who = self._person(index)
            phones = self._phones(who)
            roll = self.rng.random()
            if roll < 0.25 and self.counties:
                self._ticket(who, phones)
            elif roll < 0.4 and self.telecom_cities:
                arrived = self._ago(1, WINDOW_DAYS - 1)
                # Mostly long enough to count; some shorter than telecom_min_stay_hours.
                length = self._hours(1, 3.5) if self.rng.random() < 0.15 else self._hours(4, 72)
                city = self._pick(self.telecom_cities)
                self._telecom(who, self.rng.choice(phones), city, arrived, self._past(arrived + length))
            if self.rng.random() < 0.6:
                for _ in range(self.rng.choice((1, 1, 2, 3))):
                    positive = self.rng.random() < 0.001
                    result = LabResultValue.POSITIVE if positive else LabResultValue.NEGATIVE
                    self._lab_result(who, self._ago(0, WINDOW_DAYS), result)
            if self.rng.random() < 0.05:
                self._symptoms(who)
            if index in inbound:
                self._inbound(who)
            if index in ordered:
                kind = OrderKind.HOME if self.rng.random() < 0.7 else OrderKind.CENTRALIZED
                self._order(who, kind, self._ago(0, 20), days=14, reason="密切接触者")
        return self.rows
