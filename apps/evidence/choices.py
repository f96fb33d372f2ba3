from django.db import models
from django.utils.translation import gettext_lazy as _


class StaySource(models.TextChoices):
    RAIL = "rail", _("rail ticket")
    AIR = "air", _("air ticket")
    TELECOM = "telecom", _("telecom itinerary")
    HOTEL = "hotel", _("hotel registration")
    CHECKPOINT = "checkpoint", _("police checkpoint")
    DECLARED = "declared", _("itinerary declaration")
    SCAN = "scan", _("venue scan")


TICKET_SOURCES = (StaySource.RAIL, StaySource.AIR)


class Precision(models.TextChoices):
    COUNTY = "county", _("county")
    CITY = "city", _("city")


class LabResultValue(models.TextChoices):
    NEGATIVE = "negative", _("negative")
    POSITIVE = "positive", _("positive")


class HealthEventKind(models.TextChoices):
    BEIJING_ENTRY = "beijing_entry", _("entering Beijing")
    DRUG_PURCHASE = "drug_purchase", _("drug purchase")
    CLINIC_VISIT = "clinic_visit", _("clinic visit")


class DrugClass(models.TextChoices):
    ANTIPYRETIC = "antipyretic", _("antipyretic (退热)")
    COUGH = "cough", _("cough (止咳)")
    ANTIVIRAL = "antiviral", _("antiviral (抗病毒)")
    ANTIBIOTIC = "antibiotic", _("antibiotic (抗生素)")


class Symptom(models.TextChoices):
    FEVER = "fever", _("fever (发热)")
    DRY_COUGH = "dry_cough", _("dry cough (干咳)")
    FATIGUE = "fatigue", _("fatigue (乏力)")
    SORE_THROAT = "sore_throat", _("sore throat (咽痛)")
    SMELL_TASTE_LOSS = "smell_taste_loss", _("loss of smell or taste (嗅味觉减退)")
    NASAL_CONGESTION = "nasal_congestion", _("nasal congestion (鼻塞)")
    RUNNY_NOSE = "runny_nose", _("runny nose (流涕)")
    CONJUNCTIVITIS = "conjunctivitis", _("conjunctivitis (结膜炎)")
    MYALGIA = "myalgia", _("myalgia (肌痛)")
    DIARRHEA = "diarrhea", _("diarrhoea (腹泻)")
    DYSPNEA = "dyspnea", _("dyspnoea (呼吸困难)")


class OrderKind(models.TextChoices):
    CENTRALIZED = "centralized", _("centralised observation")
    HOME = "home", _("home observation")


class AssociationKind(models.TextChoices):
    EPIDEMIOLOGICAL = "epidemiological", _("epidemiological link")
    VENUE_SCAN = "venue_scan", _("scan near a controlled site")
    PHONE_OWNER = "phone_owner", _("phone registered under the ID seen in a risk area")


class EvidenceOrigin(models.TextChoices):
    """Who entered a piece of evidence (not to be confused with `apps.core.origin.Origin`, where a
    change came from: admin, api, task, command)."""

    FEED = "feed", _("data feed")
    STAFF = "staff", _("staff")
    PERSON = "person", _("the person")
