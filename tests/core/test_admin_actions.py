"""The one pattern of the admin's action screens (apps.core.admin_actions): a service's field
errors on the form's fields by name and the rest on top, the access layer's refusals as 403 / 404,
other refusals on top with their status, the typed input kept, the why carried, and a done action
said and redirected. The screens themselves are tested with their apps."""

import json

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from apps.core.admin_actions import ActionView, Done, error_text, put_errors, why_of
from apps.core.errors import Busy, Conflict, DomainError, NotFoundInJurisdiction, NotPermitted, TooManyLookups


class NoteForm(forms.Form):
    note = forms.CharField()
    days = forms.IntegerField(required=False)


# --- put_errors -----------------------------------------------------------------------------------


def bound(**data) -> NoteForm:
    form = NoteForm({"note": "typed", **data})
    assert form.is_valid()
    return form


def test_a_service_error_lands_on_the_field_of_its_name_and_the_rest_on_top():
    form = bound()
    put_errors(form, ValidationError({"note": ["Too short."], "person_ids": ["Nobody ticked."]}))
    assert form.errors["note"] == ["Too short."]
    assert form.non_field_errors() == ["Nobody ticked."], "an unknown name is said on top, without the name"
    assert form["note"].value() == "typed", "the typed input is kept"


def test_a_service_name_can_be_mapped_onto_a_field_of_the_form():
    form = bound()
    put_errors(form, ValidationError({"ends_at": ["Must end after it starts."]}), fields={"ends_at": "days"})
    assert form.errors == {"days": ["Must end after it starts."]}


def test_an_error_without_fields_is_said_on_top():
    form = bound()
    put_errors(form, ValidationError(["One.", "Two."]))
    assert form.non_field_errors() == ["One.", "Two."]


def test_a_form_places_what_it_can_itself_and_the_rest_goes_by_name():
    class RowsForm(NoteForm):
        placed: list

        def place_service_errors(self, exc):
            self.placed = exc.error_dict.pop("places[0].area_code")
            return exc

    form = RowsForm({"note": "x"})
    assert form.is_valid()
    put_errors(form, ValidationError({"places[0].area_code": ["Not a county."], "note": ["Say more."]}))
    assert [m for e in form.placed for m in e.messages] == ["Not a county."]
    assert form.errors == {"note": ["Say more."]}

    class AllPlaced(NoteForm):
        def place_service_errors(self, exc):
            return None

    form = AllPlaced({"note": "x"})
    assert form.is_valid()
    put_errors(form, ValidationError({"note": ["placed elsewhere"]}))
    assert form.errors == {}


def test_error_text_says_a_refusal_in_one_line():
    assert error_text(Conflict("Already checked out.")) == "Already checked out."
    assert error_text(ValidationError({"a": ["One."], "b": ["Two."]})) == "One. Two."
    assert error_text(ValueError("plain")) == "plain"


def test_why_comes_from_the_post_then_the_address_trimmed_and_bounded():
    rf = RequestFactory()
    assert why_of(rf.post("/x/?why=from-address", {"why": "  posted  "})) == "posted"
    assert why_of(rf.post("/x/?why=from-address", {})) == "from-address"
    assert why_of(rf.get("/x/")) == ""
    assert len(why_of(rf.get("/x/", {"why": "w" * 1000}))) == 300


def test_the_errors_of_the_services_are_the_core_errors_with_their_statuses():
    assert (Conflict("x").status_code, Busy("x").status_code) == (409, 503)
    assert all(issubclass(e, DomainError) for e in (Conflict, Busy, NotPermitted, NotFoundInJurisdiction))
    from apps.appeals import services as appeals
    from apps.casework import services as casework
    from apps.hotels import services as hotels

    assert casework.Conflict is appeals.Conflict is hotels.Conflict is Conflict and casework.Busy is Busy


# --- the view ---------------------------------------------------------------------------------------


OPENED: list[str] = []


class Screen(ActionView):
    """A screen whose service is `outcome`: a refusal to raise, or what to return. The page is the
    form as JSON (typed input, errors, why)."""

    form_class = NoteForm
    outcome = None
    load_refusal = None

    def load(self, **kwargs):
        if self.load_refusal is not None:
            raise self.load_refusal

    def opened(self):
        OPENED.append(self.why)

    def perform(self, form):
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome

    def success_url(self):
        return f"/person/?why={self.why}"

    def show(self, form, status=200):
        body = {
            "typed": {name: form[name].value() for name in form.fields},
            "errors": {k: [str(m) for m in v] for k, v in form.errors.items()},
            "why": self.why,
        }
        return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def call(method="post", data=None, **attributes):
    rf = RequestFactory()
    request = rf.post("/screen/", data or {}) if method == "post" else rf.get("/screen/", data or {})
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    view = type("S", (Screen,), attributes).as_view()
    response = view(request)
    return (
        request,
        response,
        (json.loads(response.content) if response.get("Content-Type") == "application/json" else None),
    )


def test_a_service_validation_error_lands_on_the_named_field_with_the_typed_input_and_the_why_kept():
    _request, response, page = call(
        data={"note": "已核实", "days": "3", "why": "work queue: popup ③ #7"},
        outcome=ValidationError({"note": ["Say what you checked."], "checklist": ["Confirm every item."]}),
    )
    assert response.status_code == 200
    assert page["errors"] == {"note": ["Say what you checked."], "__all__": ["Confirm every item."]}
    assert page["typed"] == {"note": "已核实", "days": "3"}
    assert page["why"] == "work queue: popup ③ #7"


def test_an_invalid_form_never_reaches_the_service_and_answers_the_screens_status():
    _request, response, page = call(data={"note": ""}, outcome=AssertionError("the service was called"))
    assert response.status_code == 200 and list(page["errors"]) == ["note"]
    _request, response, _page = call(data={"note": ""}, invalid_status=400, outcome=AssertionError("called"))
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("refusal", "status"),
    [(Conflict("Ended already."), 409), (Busy("Data arriving."), 503), (TooManyLookups("Wait.", retry_after=9), 429)],
)
def test_other_refusals_are_said_on_top_with_their_status(refusal, status):
    _request, response, page = call(data={"note": "typed"}, outcome=refusal)
    assert response.status_code == status
    assert page["errors"] == {"__all__": [refusal.message]} and page["typed"]["note"] == "typed"


@pytest.mark.parametrize(
    ("refusal", "raised"), [(NotPermitted("Role."), PermissionDenied), (NotFoundInJurisdiction("No."), Http404)]
)
def test_the_access_layer_answers_403_and_404_on_a_post_from_the_service_or_the_load(refusal, raised):
    with pytest.raises(raised):
        call(data={"note": "typed"}, outcome=refusal)
    with pytest.raises(raised):
        call(data={"note": "typed"}, load_refusal=refusal, outcome=AssertionError("the service was called"))
    with pytest.raises(raised):
        call("get", load_refusal=refusal)


def test_done_says_its_messages_and_redirects_with_the_why():
    outcome = Done("Released.", also=((30, "1 person skipped."),))
    request, response, _page = call(data={"note": "x", "why": "item-7"}, outcome=outcome)
    assert response.status_code == 302 and response["Location"] == "/person/?why=item-7"
    assert [(m.level, str(m)) for m in get_messages(request)] == [(25, "Released."), (30, "1 person skipped.")]
    request, response, _page = call(data={"note": "x"}, outcome=Done("Gone.", url="/elsewhere/"))
    assert response["Location"] == "/elsewhere/"
    request, response, _page = call(data={"note": "x"}, outcome="Only a message.")
    assert [str(m) for m in get_messages(request)] == ["Only a message."]
    shown = HttpResponse("shown once")
    _request, response, _page = call(data={"note": "x"}, outcome=shown)
    assert response is shown


def test_opening_the_page_is_the_get_and_only_the_get():
    OPENED.clear()
    _request, response, page = call("get", {"why": "item 9"})
    assert response.status_code == 200 and page["errors"] == {} and page["why"] == "item 9"
    call(data={"note": "x", "why": "item 9"}, outcome=Conflict("no"))
    assert OPENED == ["item 9"]
