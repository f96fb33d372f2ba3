"""One pattern for the action screens of the admin: a form, a service, the answer.

Every screen that changes something (a release, an observation order, a step on an appeal, a
hotel check-in) is an `ActionView`, a class-based view that does the same in the same order:

- `load(**url_kwargs)` finds what the action is about through the access layer; it may answer
  instead (nothing left to do, say) by returning a response.
- GET: `opened()` (the look-up's access log, say), then the form (`get_form()`, unbound).
- POST: the form bound to what was sent, fields and files, so the typed input is shown again on
  every error. A valid form goes to `perform(form)`, which calls the service:
    - a `ValidationError` lands on the form's fields by name (`put_errors`: a form may place
      some itself, the rows of a formset say; `service_fields` renames the service's names), the
      rest above the form; the page again with `invalid_status`;
    - the access layer's `NotPermitted` / `NotFoundInJurisdiction`, raised by `load` or by the
      service, go to `refused()`: the admin's 403 / 404 pages unless the screen says otherwise;
    - any other `DomainError` (`Conflict` 409, `Busy` 503, `TooManyLookups` 429, a rule refused)
      above the form, the page answered with the error's status;
    - done: `perform` returns a `Done` (or only its message): the message, then the redirect to
      `Done.url` or `success_url()`; or a response, sent as it is (a page shown once).
- `why` is the work item the page was opened from (`?why=` of the GET; the page posts it back in
  a hidden field): the screens log it with the look-up and carry it to the page they go back to.

The module imports no other app of the portal: it knows only `apps.core.errors`, which the access
layer and the services raise."""

from collections.abc import Mapping
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views import View

from .errors import DomainError, NotFoundInJurisdiction, NotPermitted

WHY_MAX_LENGTH = 300


@dataclass(frozen=True)
class Done:
    """What a done action says, and where it goes (`ActionView.success_url()` when empty); `also`
    are further messages as (level, text)."""

    message: str
    url: str = ""
    level: int = messages.SUCCESS
    also: tuple[tuple[int, str], ...] = ()


def why_of(request) -> str:
    """The work item the page was opened from: `why` of the POST (the page's hidden field), else
    of the address."""
    return (request.POST.get("why") or request.GET.get("why") or "").strip()[:WHY_MAX_LENGTH]


def error_text(exc: Exception) -> str:
    """A service's refusal in one line (a row of a bulk action, say)."""
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    return str(exc)


def report_bulk(modeladmin, request, *, done: int, refused: list[str], message: str) -> None:
    """The outcome of a bulk admin action: `message` (already formatted with the count) when any row
    was done, then one error line per refused row."""
    if done:
        modeladmin.message_user(request, message, messages.SUCCESS)
    for line in refused:
        modeladmin.message_user(request, line, messages.ERROR)


def put_errors(form: forms.Form, exc: ValidationError, *, fields: Mapping[str, str] | None = None) -> None:
    """A service's `ValidationError` on the form: each of its fields on the form's field of that
    name (or of the name `fields` maps it to), the rest above the form. A form with
    `place_service_errors(exc)` places what it can itself and returns the rest (or None)."""
    place = getattr(form, "place_service_errors", None)
    if place is not None:
        exc = place(exc)
        if exc is None:
            return
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    fields = fields or {}
    for name, errors in exc.error_dict.items():
        field = fields.get(name, name)
        form.add_error(field if field in form.fields else None, errors)


class ActionView(View):
    """An action screen of the admin: see the module. Set `form_class` and `template_name` (or
    override `show`), write `perform`; `load`, `get_form_kwargs`, `get_context_data`,
    `success_url`, `refused` and `opened` as the screen needs."""

    http_method_names = ["get", "post"]
    form_class: type[forms.Form] | None = None
    prefix: str | None = None
    template_name = ""
    title = ""
    # The answer to a form with errors (the API's 400 when a screen wants it).
    invalid_status = 200
    # A service's field name → the form's, for the errors the service raises.
    service_fields: Mapping[str, str] = {}
    # The admin the screen belongs to: its site's context, and `opts` of its model when set.
    admin_site = admin.site
    model_admin = None

    def dispatch(self, request, *args, **kwargs):
        self.why = why_of(request)
        try:
            answer = self.load(**kwargs)
            if answer is not None:
                return answer
            return super().dispatch(request, *args, **kwargs)
        except (NotPermitted, NotFoundInJurisdiction) as exc:
            return self.refused(exc)

    # --- what a screen writes ---

    def load(self, **kwargs) -> HttpResponseBase | None:
        """Find the object of the action through the access layer (which raises NotPermitted or
        NotFoundInJurisdiction); a response to send instead, or None."""
        return None

    def opened(self) -> None:
        """Called when the page is opened (GET): log the look-up, say."""

    def get_form_kwargs(self) -> dict:
        return {}

    def perform(self, form: forms.Form) -> "Done | str | HttpResponseBase":
        """Call the service with the form's cleaned data; what to say (see `Done`)."""
        raise NotImplementedError

    def success_url(self) -> str:
        return self.request.get_full_path()

    def get_context_data(self, form: forms.Form) -> dict:
        site = self.model_admin.admin_site if self.model_admin is not None else self.admin_site
        context = {**site.each_context(self.request), "title": self.title, "form": form, "why": self.why}
        if self.model_admin is not None:
            context["opts"] = self.model_admin.model._meta
        return context

    def show(self, form: forms.Form, status: int = 200) -> HttpResponseBase:
        """The page with the form (typed input and errors kept when bound)."""
        return TemplateResponse(self.request, self.template_name, self.get_context_data(form), status=status)

    def refused(self, exc: DomainError, form: forms.Form | None = None) -> HttpResponseBase:
        """The access layer's refusal, from `load` (no form) or from the service (the bound form):
        the admin's 403 or 404 page."""
        if isinstance(exc, NotPermitted):
            raise PermissionDenied(exc.message) from exc
        raise Http404(exc.message) from exc

    # --- the pattern ---

    def get_form(self) -> forms.Form:
        kwargs = {"prefix": self.prefix, **self.get_form_kwargs()}
        if self.request.method == "POST":
            kwargs.update(data=self.request.POST, files=self.request.FILES)
        return self.form_class(**kwargs)

    def get(self, request, *args, **kwargs):
        self.opened()
        return self.show(self.get_form())

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        if not form.is_valid():
            return self.show(form, status=self.invalid_status)
        try:
            result = self.perform(form)
        except ValidationError as exc:
            put_errors(form, exc, fields=self.service_fields)
            return self.show(form, status=self.invalid_status)
        except (NotPermitted, NotFoundInJurisdiction) as exc:
            return self.refused(exc, form)
        except DomainError as exc:
            form.add_error(None, exc.message)
            return self.show(form, status=exc.status_code)
        return self.done(result)

    def done(self, result: "Done | str | HttpResponseBase") -> HttpResponseBase:
        if isinstance(result, HttpResponseBase):
            return result
        if isinstance(result, str):
            result = Done(result)
        if result.message:
            messages.add_message(self.request, result.level, result.message)
        for level, text in result.also:
            messages.add_message(self.request, level, text)
        return redirect(result.url or self.success_url())


def admin_action(view_class: type[ActionView], **initkwargs):
    """The view of an action screen behind the admin's login (for URLs outside a ModelAdmin)."""
    site = initkwargs.get("admin_site", view_class.admin_site)
    return site.admin_view(view_class.as_view(**initkwargs))
