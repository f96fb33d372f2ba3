from rest_framework import serializers

from ..choices import PopupClears
from ..engine.registry import POPUPS


class PopupSerializer(serializers.Serializer):
    number = serializers.IntegerField(min_value=min(POPUPS), max_value=max(POPUPS))
    title = serializers.CharField()
    guidance = serializers.CharField()
    since = serializers.DateTimeField()
    clears = serializers.ChoiceField(choices=PopupClears.values)
    clears_at = serializers.DateTimeField(allow_null=True)


class EvidenceRefSerializer(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.CharField()


class ReasonSerializer(serializers.Serializer):
    rule = serializers.CharField()
    summary = serializers.CharField()
    clears = serializers.CharField()
    evidence = EvidenceRefSerializer(many=True)
    popup = serializers.IntegerField(required=False)
    state = serializers.CharField(required=False)
    since = serializers.DateTimeField(allow_null=True)
    clears_at = serializers.DateTimeField(allow_null=True)
    after_release = serializers.CharField(required=False)


class StatusSerializer(serializers.Serializer):
    ref = serializers.CharField()
    display_name = serializers.CharField()
    display_id = serializers.CharField()
    state = serializers.ChoiceField(choices=["green", "popup", "yellow", "red"])
    colour = serializers.ChoiceField(choices=["green", "yellow", "red", "none"])
    label = serializers.CharField()
    state_since = serializers.DateTimeField()
    popups = PopupSerializer(many=True)
    reasons = ReasonSerializer(many=True)
    valid_until = serializers.DateTimeField()
    computed_at = serializers.DateTimeField()


class StatusQuerySerializer(serializers.Serializer):
    id_type = serializers.CharField()
    id_number = serializers.CharField()
    proxy = serializers.BooleanField(required=False, default=False)
    why = serializers.CharField(required=False, default="", allow_blank=True)


class PopupEpisodeSerializer(serializers.Serializer):
    id = serializers.CharField()
    number = serializers.IntegerField()
    active = serializers.BooleanField()
    since = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    ended_by = serializers.CharField(allow_null=True)
